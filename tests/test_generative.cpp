// Image/video generation and analytics through the same advisor: presets, memory, time and cost.
#include <gpuadvise/advisor.hpp>
#include <gpuadvise/error.hpp>
#include <gpuadvise/generative.hpp>

#include <catch2/catch.hpp>

using namespace gpuadvise;

namespace {

Workload sdxl(const char* batch = "1", const char* resolution = "1024", const char* steps = "30") {
  GenerativeRequest r;
  r.kind = "diffusion";
  r.model = "sdxl";
  r.batch = batch;
  r.resolution = resolution;
  r.steps = steps;
  return build_generative_workload(r);
}

} // namespace

TEST_CASE("generative presets load with their components and sources", "[generative]") {
  const auto& catalog = GenerativeCatalog::embedded();
  for (const char* id : {"sd15", "sdxl", "sd3-medium", "flux1-dev", "wan2.1-1.3b", "wan2.1-14b", "cogvideox-2b", "cogvideox-5b"}) {
    INFO(id);
    const auto& m = catalog.find(id);
    CHECK_FALSE(m.components.empty());
    for (const auto& c : m.components) CHECK_FALSE(c.source.empty());
  }
  CHECK(catalog.find("stabilityai/stable-diffusion-xl-base-1.0").id == "sdxl");
  CHECK_THROWS_WITH(catalog.find("sdxxl"), Catch::Contains("did you mean") && Catch::Contains("sdxl"));
}

TEST_CASE("SDXL memory: resident pipeline in 16-bit plus the larger of denoiser activations and VAE decode", "[generative]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  const Gpu& l40 = catalog.find("l40");
  const Workload w = sdxl();
  const auto p = decide_precision(w, l40);
  const auto m = estimate_memory(w, p, l40, 1, assumptions);
  // UNet 2,567,463,684 + CLIP-L 123,060,480 + OpenCLIP-bigG 694,659,840 + VAE 83,653,863, 2 bytes each.
  CHECK(m.weights_bytes == Approx((2567463684.0 + 123060480.0 + 694659840.0 + 83653863.0) * 2));
  CHECK(m.kv_cache_bytes == 0);
  CHECK(m.total_bytes == Approx(m.weights_bytes + m.activation_bytes + m.overhead_bytes));
  // More pixels and more images per pass never need less memory.
  CHECK(estimate_memory(sdxl("4"), p, l40, 1, assumptions).total_bytes > m.total_bytes);
  CHECK(estimate_memory(sdxl("1", "2048"), p, l40, 1, assumptions).total_bytes > m.total_bytes);
}

TEST_CASE("generation time grows with steps, guidance and resolution; cost per image = $/hr x s/image", "[generative]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  const Gpu& gpu = catalog.find("a100-80gb-sxm");
  const Workload base = sdxl();
  const auto p = decide_precision(base, gpu);
  const double t30 = estimate_performance(base, p, gpu, 1, assumptions).seconds_per_item.expected;
  const double t60 = estimate_performance(sdxl("1", "1024", "60"), p, gpu, 1, assumptions).seconds_per_item.expected;
  CHECK(t60 > 1.8 * t30);
  CHECK(t60 < 2.1 * t30);
  CHECK(estimate_performance(sdxl("1", "2048"), p, gpu, 1, assumptions).seconds_per_item.expected > 3 * t30);
  GenerativeRequest r;
  r.kind = "diffusion";
  r.model = "sdxl";
  r.batch = "1";
  r.steps = "30";
  r.no_guidance = true;
  CHECK(estimate_performance(build_generative_workload(r), p, gpu, 1, assumptions).seconds_per_item.expected < t30);
  const Candidate c = evaluate(base, gpu, 1, assumptions, "");
  REQUIRE(c.cost.priced);
  CHECK(c.cost.usd_per_item.expected == Approx(c.cost.usd_per_hour * c.performance.seconds_per_item.expected / 3600));
  CHECK(c.cost.job_usd.expected == Approx(c.cost.usd_per_hour * c.performance.job_s.expected / 3600));
}

TEST_CASE("video: latent frames from the VAE's temporal compression; offline advice picks a GPU", "[generative]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  GenerativeRequest r;
  r.kind = "video";
  r.model = "wan2.1-1.3b";
  r.resolution = "832x480";
  const Workload w = build_generative_workload(r);
  CHECK(w.generative->frames == 81);
  const Advice a = advise(w, catalog, assumptions, {});
  REQUIRE(a.recommendation.pick);
  CHECK(a.candidates[*a.recommendation.pick].memory.fits());
  r.kind = "diffusion";
  CHECK_THROWS_WITH(build_generative_workload(r), Catch::Contains("video"));
}

TEST_CASE("analytics: fits with the working set, scan time from bandwidth", "[generative]") {
  const auto catalog = GpuCatalog::embedded();
  const auto assumptions = Assumptions::embedded();
  GenerativeRequest r;
  r.kind = "analytics";
  r.dataset_size = "20GB";
  r.operations = {"scan"};
  const Workload w = build_generative_workload(r);
  const Gpu& l40 = catalog.find("l40");
  const auto p = decide_precision(w, l40);
  const auto m = estimate_memory(w, p, l40, 1, assumptions);
  CHECK(m.weights_bytes == Approx(20e9));
  CHECK(m.activation_bytes == Approx(20e9 * (assumptions.constant("analytics_working_set_scan") - 1)));
  const auto perf = estimate_performance(w, p, l40, 1, assumptions);
  CHECK(perf.seconds_per_item.expected ==
        Approx(20e9 / (864e9 * assumptions.constant("analytics_bandwidth_fraction"))));
  r.operations = {"join"};
  CHECK(estimate_memory(build_generative_workload(r), p, l40, 1, assumptions).total_bytes > m.total_bytes);
  r.operations = {"explode"};
  CHECK_THROWS_AS(build_generative_workload(r), InputError);
  r.operations = {};
  r.dataset_size = "lots";
  CHECK_THROWS_AS(build_generative_workload(r), InputError);
}
