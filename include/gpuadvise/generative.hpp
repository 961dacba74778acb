#pragma once
/// Image and video generation (diffusion, video DiTs) and GPU dataframe analytics: how these
/// workloads turn into bytes and FLOPs. The advisor, rules, cost and reports are the LLM ones.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuadvise {

/// What kind of work a Workload describes.
enum class WorkloadKind { llm, diffusion, video, analytics, embedding };
/// The kind's name in its module (src/workloads/registry.cpp).
std::string_view to_string(WorkloadKind k);
/// Parses a --workload value (also "image" for diffusion, "dataframe" for analytics). Throws InputError.
WorkloadKind parse_workload_kind(std::string_view text);

/// One loaded part of a generation pipeline.
struct GenerativeComponent {
  std::string name;
  std::string role;   ///< denoiser, text_encoder, vae, image_encoder, addon
  double params = 0;
  std::string source;
};

/// A diffusion or video model preset (data/generative.json).
struct GenerativeModel {
  std::string id;
  std::string name;
  std::string kind;                 ///< diffusion | video
  std::vector<std::string> aliases;
  std::vector<GenerativeComponent> components;
  int latent_downsample = 8;
  int latent_channels = 4;
  int temporal_downsample = 1;      ///< video VAEs: frames per latent frame
  bool transformer = false;         ///< DiT/MMDiT denoiser (else a UNet)
  int hidden = 0, layers = 0, patch = 1, heads = 0, head_dim = 0, ffn = 0, text_tokens = 0;
  int default_steps = 30;
  int default_resolution = 1024;
  int default_frames = 1;
  bool guidance = true;             ///< classifier-free guidance: two denoiser passes per step
  std::string source;
};

/// An add-on that runs beside the denoiser (ControlNet) or encodes a reference image (IP-Adapter).
struct GenerativeAddon {
  std::string id;
  std::string name;
  std::vector<std::string> for_models;
  double params = 0;
  double image_encoder_params = 0;
  std::string source;
};

/// The generative presets, parsed from the built-in data/generative.json on first use.
class GenerativeCatalog {
public:
  static const GenerativeCatalog& embedded();
  static GenerativeCatalog from_json(std::string_view text, std::string_view origin);
  const std::vector<GenerativeModel>& models() const { return m_models; }
  const GenerativeModel& find(std::string_view name) const;   ///< throws InputError with suggestions
  const GenerativeAddon& find_addon(std::string_view name, const GenerativeModel& for_model) const;

private:
  std::vector<GenerativeModel> m_models;
  std::vector<GenerativeAddon> m_addons;
};

/// An image/video generation job.
struct GenerativeSpec {
  GenerativeModel model;
  std::vector<GenerativeAddon> addons;
  int width = 1024, height = 1024;
  int frames = 1;          ///< video frames (1 for images)
  int steps = 30;
  bool guidance = true;
  std::int64_t items = 1000;  ///< images or clips in the job
};

/// A dataframe analytics job (RAPIDS cuDF).
struct AnalyticsSpec {
  double dataset_bytes = 0;                ///< in GPU memory (cuDF columns)
  std::vector<std::string> operations;     ///< scan, filter, groupby, join, sort
  std::int64_t queries = 1;                ///< times the operation mix runs
};

/// A generation or analytics workload as typed on the command line.
struct GenerativeRequest {
  std::string kind;                        ///< diffusion | video | analytics
  std::string model;                       ///< preset (diffusion, video)
  std::optional<std::string> precision, batch, items, resolution, frames, steps;
  bool no_guidance = false;
  std::vector<std::string> addons;         ///< controlnet, ip-adapter
  std::optional<std::string> dataset_size, rows, bytes_per_row;  ///< analytics
  std::vector<std::string> operations;     ///< analytics
  double memory_utilization = 0.90;
};

struct Workload;
/// Validates a request into a Workload of kind diffusion, video or analytics. Throws InputError.
Workload build_generative_workload(const GenerativeRequest& request);

/// Validates an analytics operation name (scan, filter, groupby, join, sort); throws InputError.
void check_analytics_operation(std::string_view op);

} // namespace gpuadvise
