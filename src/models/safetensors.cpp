// safetensors headers: u64 little-endian header length N, then N bytes of JSON mapping each tensor
// name to {dtype, shape, data_offsets [begin, end)} (offsets from the end of the header), plus an
// optional "__metadata__" object (format: huggingface/safetensors README, "Format"). Only the header is
// read; bytes per tensor are end - begin, exactly as stored.
#include <gpuadvise/error.hpp>
#include <gpuadvise/model_files.hpp>
#include <gpuadvise/units.hpp>

#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace gpuadvise {
namespace {

namespace fs = std::filesystem;

/// The safetensors library refuses headers over 100 MB (safetensors/src/tensor.rs MAX_HEADER_SIZE).
constexpr std::uint64_t k_max_header = 100'000'000;

/// Packed 4-bit weights stored in integer tensors: their names, by format (GPTQ/AWQ "qweight",
/// compressed-tensors "weight_packed", gpt-oss MXFP4 "_blocks").
bool packed_weight_name(std::string_view name) {
  const auto ends = [&](std::string_view tail) {
    return name.size() >= tail.size() && name.substr(name.size() - tail.size()) == tail;
  };
  return ends("qweight") || ends("weight_packed") || ends("_blocks");
}

/// Quantization metadata that is not a parameter: scales, zero points, group indices.
bool quant_metadata_name(std::string_view name) {
  for (std::string_view part : {"qzeros", "scales", "g_idx", "weight_scale", "weight_zero_point", "weight_shape",
                                "input_scale", "weight_global_scale", "_scale", "SCB"})
    if (name.find(part) != std::string_view::npos) return true;
  return false;
}

std::uint64_t read_u64_le(std::string_view bytes) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

void add(TensorTable& table, TensorInfo t) {
  table.total_bytes += t.bytes;
  table.bytes_by_dtype[t.dtype] += t.bytes;
  table.elements_by_dtype[t.dtype] += t.elements;
  const bool integer = t.dtype == "I32" || t.dtype == "U8" || t.dtype == "I8" || t.dtype == "U32" || t.dtype == "I64";
  if (integer && packed_weight_name(t.name)) {
    // 4-bit values: 8 per 32-bit word, 2 per byte.
    const double per_element = t.dtype == "I32" || t.dtype == "U32" ? 8 : t.dtype == "I64" ? 16 : 2;
    table.parameters += static_cast<double>(t.elements) * per_element;
  } else if (!quant_metadata_name(t.name) && !(integer && t.name.find("weight") == std::string::npos)) {
    table.parameters += static_cast<double>(t.elements);
  }
  table.tensors.push_back(std::move(t));
}

/// Reads the first `limit` bytes the header needs from a file.
std::string read_header_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot read safetensors file '{}'", path));
  std::string prefix(8, '\0');
  in.read(prefix.data(), 8);
  if (in.gcount() != 8) throw InputError(fmt::format("{}: not a safetensors file (shorter than its 8-byte header length)", path));
  const std::uint64_t n = read_u64_le(prefix);
  if (n > k_max_header)
    throw InputError(fmt::format("{}: not a safetensors file (header length {} is over the 100 MB limit)", path, n));
  std::string header(static_cast<std::size_t>(n), '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  if (static_cast<std::uint64_t>(in.gcount()) != n)
    throw InputError(fmt::format("{}: header says {} bytes of JSON but the file ends before", path, n));
  return prefix + header;
}

} // namespace

std::optional<double> safetensors_dtype_bytes(std::string_view dtype) {
  static const std::map<std::string, double, std::less<>> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1}, {"U64", 8},
      {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1}, {"F4", 0.5}};
  const auto it = sizes.find(dtype);
  if (it == sizes.end()) return std::nullopt;
  return it->second;
}

TensorTable parse_safetensors_header(std::string_view bytes, std::string_view origin) {
  if (bytes.size() < 8) throw InputError(fmt::format("{}: not a safetensors file (shorter than its 8-byte header length)", origin));
  const std::uint64_t n = read_u64_le(bytes);
  if (n > k_max_header)
    throw InputError(fmt::format("{}: not a safetensors file (header length {} is over the 100 MB limit)", origin, n));
  if (bytes.size() - 8 < n) throw InputError(fmt::format("{}: header says {} bytes of JSON but the file ends before", origin, n));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, static_cast<std::size_t>(n)));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: safetensors header is not JSON ({})", origin, e.what()));
  }
  if (!header.is_object()) throw InputError(fmt::format("{}: safetensors header is not a JSON object", origin));
  TensorTable table;
  table.format = "safetensors";
  table.files.emplace_back(origin);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string& key = it.key();
    const std::string where = fmt::format("{}: tensor '{}'", origin,
                                          key.size() > 80 ? printable(key.substr(0, 80)) + "..." : printable(key));
    const auto& entry = it.value();
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() || !entry.contains("shape") ||
        !entry["shape"].is_array() || !entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2)
      throw InputError(fmt::format("{}: needs dtype (string), shape (array) and data_offsets ([begin, end])", where));
    TensorInfo t;
    t.name = it.key();
    t.dtype = entry["dtype"].get<std::string>();
    t.elements = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw InputError(fmt::format("{}: shape holds {}, not a size", where, d.dump()));
      const std::uint64_t v = d.get<std::uint64_t>();
      if (v != 0 && t.elements > (std::uint64_t{1} << 50) / v) throw InputError(fmt::format("{}: shape is too large", where));
      t.shape.push_back(v);
      t.elements *= v;
    }
    const auto& off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned() || off[1].get<std::uint64_t>() < off[0].get<std::uint64_t>())
      throw InputError(fmt::format("{}: data_offsets must be [begin, end] with begin <= end", where));
    t.bytes = off[1].get<std::uint64_t>() - off[0].get<std::uint64_t>();
    const auto size = safetensors_dtype_bytes(t.dtype);
    if (!size) throw InputError(fmt::format("{}: unknown dtype '{}'", where, printable(t.dtype)));
    const double expected = static_cast<double>(t.elements) * *size;
    if (std::abs(expected - static_cast<double>(t.bytes)) > 0.5)
      throw InputError(fmt::format("{}: data_offsets span {} bytes but {} elements of {} need {}", where, t.bytes,
                                   t.elements, t.dtype, static_cast<std::uint64_t>(expected)));
    spans.emplace_back(off[0].get<std::uint64_t>(), off[1].get<std::uint64_t>());
    add(table, std::move(t));
  }
  // Tensors must not overlap (the safetensors format forbids it; an overlap would count bytes twice).
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      throw InputError(fmt::format("{}: two tensors' data_offsets overlap at byte {}", origin, spans[i].first));
  return table;
}

TensorTable read_safetensors(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> files;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    if (fs::is_regular_file(p / "model.safetensors.index.json", ec)) return read_safetensors((p / "model.safetensors.index.json").string());
    for (const auto& entry : fs::directory_iterator(p, ec))
      if (entry.path().extension() == ".safetensors") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError(fmt::format("no .safetensors files in '{}'", path));
  } else if (p.extension() == ".json") {
    nlohmann::json index;
    std::ifstream in(path);
    if (!in) throw InputError(fmt::format("cannot read safetensors index '{}'", path));
    try {
      index = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}: not JSON ({})", path, e.what()));
    }
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      throw InputError(fmt::format("{}: field 'weight_map': missing (a safetensors index maps tensors to files)", path));
    std::set<std::string> names;
    for (const auto& file : index["weight_map"]) {
      if (!file.is_string()) throw InputError(fmt::format("{}: field 'weight_map': values must be file names", path));
      const std::string name = file.get<std::string>();
      if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name == "..")
        throw InputError(fmt::format("{}: field 'weight_map': '{}' is not a file beside the index", path, printable(name)));
      names.insert(name);
    }
    for (const auto& name : names) files.push_back((p.parent_path() / name).string());
  } else {
    files.push_back(path);
  }
  TensorTable all;
  all.format = "safetensors";
  for (const auto& file : files) {
    const TensorTable one = parse_safetensors_header(read_header_bytes(file), file);
    all.files.push_back(file);
    for (const auto& t : one.tensors) add(all, t);
  }
  return all;
}

} // namespace gpuadvise
