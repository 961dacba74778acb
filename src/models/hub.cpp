// Hugging Face hub: config.json and safetensors headers of `org/name[@revision]` over HTTP, with range
// requests for the headers (bytes 0-7 give the header length N, bytes 0..8+N-1 the length and header), through
// libcurl. URLs follow huggingface_hub: {HF_ENDPOINT}/{repo}/resolve/{revision}/{file}; HF_TOKEN goes in
// an "Authorization: Bearer" header; HF_HUB_OFFLINE=1 forbids any request.
#include <gpuadvise/error.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/units.hpp>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

namespace gpuadvise {
namespace {

namespace fs = std::filesystem;

/// The most bytes one response may bring: a config.json or an index is kilobytes to a few megabytes;
/// a safetensors header is at most 100 MB (the format's limit).
constexpr std::size_t k_max_response = 100'000'000 + 16;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

struct Body {
  std::string data;
  std::size_t limit = k_max_response;
};

std::size_t on_data(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t bytes = size * n;
  const std::size_t room = body->limit > body->data.size() ? body->limit - body->data.size() : 0;
  body->data.append(ptr, std::min(bytes, room));
  // A server that ignores the Range header sends the whole file: stop once the bytes asked for are here.
  return bytes <= room ? bytes : 0;
}

struct Response {
  long status = 0;
  std::string body;
};

class Hub {
public:
  Hub(std::string repo, std::string revision) : m_repo(std::move(repo)), m_revision(std::move(revision)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    m_endpoint = env("HF_ENDPOINT").empty() ? "https://huggingface.co" : env("HF_ENDPOINT");
    while (!m_endpoint.empty() && m_endpoint.back() == '/') m_endpoint.pop_back();
    m_token = env("HF_TOKEN").empty() ? env("HUGGING_FACE_HUB_TOKEN") : env("HF_TOKEN");
  }

  std::string url(const std::string& file) const {
    return fmt::format("{}/{}/resolve/{}/{}", m_endpoint, m_repo, m_revision, file);
  }

  /// GET `file` (bytes [first, last] when last > 0). Throws InputError on network failures.
  Response get(const std::string& file, std::size_t first = 0, std::size_t last = 0) const {
    CURL* curl = curl_easy_init();
    if (!curl) throw InputError("--model: cannot start an HTTP client (libcurl)");
    Body body;
    if (last > 0) body.limit = last - first + 1;
    const std::string address = url(file);
    curl_slist* headers = nullptr;
    if (!m_token.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + m_token).c_str());
    curl_easy_setopt(curl, CURLOPT_URL, address.c_str());
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "gpuadvise");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    const std::string range = fmt::format("{}-{}", first, last);
    if (last > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
    const CURLcode rc = curl_easy_perform(curl);
    Response r;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    const bool stopped_early = rc == CURLE_WRITE_ERROR && body.data.size() == body.limit;
    if (rc != CURLE_OK && !stopped_early)
      throw InputError(fmt::format("--model '{}': cannot reach the Hugging Face hub at {} ({}); set HF_ENDPOINT, or "
                                   "download the model and give its folder",
                                   m_repo, m_endpoint, curl_easy_strerror(rc)));
    if (r.status == 401 || r.status == 403)
      throw InputError(fmt::format("--model '{}': the hub answered {} for {}: the model is gated or private; accept its "
                                   "licence on the hub and set HF_TOKEN",
                                   m_repo, r.status, file));
    r.body = std::move(body.data);
    return r;
  }

  const std::string& repo() const { return m_repo; }

private:
  std::string m_repo, m_revision, m_endpoint, m_token;
};

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) throw InputError(fmt::format("cannot write '{}'", path.string()));
}

/// The header of one remote safetensors file, as a local header-only file.
void fetch_header(const Hub& hub, const std::string& file, const fs::path& dir) {
  const Response first = hub.get(file, 0, 7);
  if (first.status == 404) throw InputError(fmt::format("--model '{}': the hub has no {}", hub.repo(), file));
  if ((first.status != 206 && first.status != 200) || first.body.size() < 8)
    throw InputError(fmt::format("--model '{}': {} answered HTTP {} to a range request", hub.repo(), file, first.status));
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(first.body[static_cast<std::size_t>(i)]);
  if (n == 0 || n > 100'000'000)
    throw InputError(fmt::format("--model '{}': {} is not a safetensors file (header length {})", hub.repo(), file, n));
  // Bytes 0 to 8 + N - 1 (the length again, then the header): a server that ignores Range sends the file
  // from byte 0 with 200, and the client keeps the same prefix.
  const Response header = hub.get(file, 0, 8 + static_cast<std::size_t>(n) - 1);
  if ((header.status != 206 && header.status != 200) || header.body.size() != 8 + n)
    throw InputError(fmt::format("--model '{}': {}: the header's {} bytes did not arrive (HTTP {})", hub.repo(), file, n,
                                 header.status));
  write_file(dir / file, header.body);
}

} // namespace

std::string fetch_from_hub(std::string_view repo_id, const std::string& work_dir) {
  if (!looks_like_hf_id(repo_id)) throw InputError(fmt::format("--model '{}': not a Hugging Face id", repo_id));
  const std::string offline = env("HF_HUB_OFFLINE");
  if (!offline.empty() && offline != "0" && normalize_name(offline) != "false")
    throw InputError(fmt::format("--model '{}': not in the local Hugging Face cache ({}) and HF_HUB_OFFLINE is set",
                                 repo_id, hf_hub_cache_dir()));
  const auto at = repo_id.find('@');
  const Hub hub(std::string(repo_id.substr(0, at)), at == std::string_view::npos ? "main" : std::string(repo_id.substr(at + 1)));
  const fs::path dir(work_dir);
  std::error_code failed;
  fs::create_directories(dir, failed);
  if (failed)
    throw InputError(fmt::format("--model '{}': cannot create the download folder {}: {}", printable(repo_id),
                                 printable(work_dir), failed.message()));

  const Response config = hub.get("config.json");
  if (config.status == 404)
    throw InputError(fmt::format("--model '{}': the hub has no such model (no config.json at {})", repo_id, hub.url("config.json")));
  if (config.status != 200) throw InputError(fmt::format("--model '{}': config.json: HTTP {}", repo_id, config.status));
  write_file(dir / "config.json", config.body);

  const Response index = hub.get("model.safetensors.index.json");
  if (index.status == 200) {
    write_file(dir / "model.safetensors.index.json", index.body);
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(index.body);
    } catch (const nlohmann::json::exception&) {
      throw InputError(fmt::format("--model '{}': model.safetensors.index.json is not JSON", repo_id));
    }
    std::set<std::string> files;
    if (doc.is_object() && doc.contains("weight_map") && doc["weight_map"].is_object())
      for (const auto& f : doc["weight_map"])
        if (f.is_string()) files.insert(f.get<std::string>());
    for (const auto& f : files) {
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos || f.empty())
        throw InputError(fmt::format("--model '{}': index names '{}', not a file beside it", repo_id, printable(f)));
      fetch_header(hub, f, dir);
    }
  } else if (index.status == 404) {
    const Response probe = hub.get("model.safetensors", 0, 7);
    if (probe.status == 206 || probe.status == 200) fetch_header(hub, "model.safetensors", dir);
  } else {
    throw InputError(fmt::format("--model '{}': model.safetensors.index.json: HTTP {}", repo_id, index.status));
  }
  return dir.string();
}

} // namespace gpuadvise
