#!/usr/bin/env python3
"""Writes the header-only model files the documentation examples read (no tensor data, so a few KB):

- llama-3.1-8b-instruct/: the model's config.json (tests/data/configs/llama-3.1-8b.config.json) and
  four safetensors shards with Llama-3.1-8B's tensor table (transformers names and shapes, BF16),
  listed by model.safetensors.index.json;
- llama-3.2-1b-instruct-q4_k_m.gguf: a GGUF v3 header with Llama-3.2-1B's metadata and tensor table,
  typed the way llama.cpp's quantizer types a Q4_K_M file (llama-quant.cpp: Q6_K for the tied
  token_embd, for attn_v and ffn_down in the layers use_more_bits picks, Q4_K elsewhere, F32 norms).

Only headers: gpuadvise reads nothing else. Run from the repository root:
    python3 tests/data/models/make_examples.py
"""
import json
import pathlib
import shutil
import struct

ROOT = pathlib.Path(__file__).resolve().parent
CONFIGS = ROOT.parent / "configs"


def safetensors_header(tensors):
    header, offset = {}, 0
    for name, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + 2 * n]}
        offset += 2 * n
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text, offset


def llama_layer(i, h, kv, f):
    p = f"model.layers.{i}."
    return [(p + "self_attn.q_proj.weight", [h, h]), (p + "self_attn.k_proj.weight", [kv, h]),
            (p + "self_attn.v_proj.weight", [kv, h]), (p + "self_attn.o_proj.weight", [h, h]),
            (p + "mlp.gate_proj.weight", [f, h]), (p + "mlp.up_proj.weight", [f, h]),
            (p + "mlp.down_proj.weight", [h, f]), (p + "input_layernorm.weight", [h]),
            (p + "post_attention_layernorm.weight", [h])]


def llama_8b():
    out = ROOT / "llama-3.1-8b-instruct"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    shutil.copy(CONFIGS / "llama-3.1-8b.config.json", out / "config.json")
    h, kv, f, layers, vocab = 4096, 1024, 14336, 32, 128256
    shards = [[("model.embed_tokens.weight", [vocab, h])] + sum((llama_layer(i, h, kv, f) for i in range(0, 9)), []),
              sum((llama_layer(i, h, kv, f) for i in range(9, 20)), []),
              sum((llama_layer(i, h, kv, f) for i in range(20, 31)), []),
              llama_layer(31, h, kv, f) + [("model.norm.weight", [h]), ("lm_head.weight", [vocab, h])]]
    weight_map, total = {}, 0
    for k, tensors in enumerate(shards, 1):
        name = f"model-{k:05d}-of-{len(shards):05d}.safetensors"
        data, size = safetensors_header(tensors)
        (out / name).write_bytes(data)
        total += size
        weight_map.update({t: name for t, _ in tensors})
    (out / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2) + "\n")


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def llama_1b_gguf():
    F32, Q4_K, Q6_K = 0, 12, 14
    h, kv, f, n, vocab = 2048, 512, 8192, 16, 128256
    meta = [("general.architecture", 8, "llama"), ("general.name", 8, "Llama 3.2 1B Instruct"),
            ("general.file_type", 4, 15),  # LLAMA_FTYPE_MOSTLY_Q4_K_M
            ("llama.block_count", 4, n), ("llama.context_length", 4, 131072), ("llama.embedding_length", 4, h),
            ("llama.feed_forward_length", 4, f), ("llama.attention.head_count", 4, 32),
            ("llama.attention.head_count_kv", 4, 8), ("llama.attention.key_length", 4, 64),
            ("llama.attention.value_length", 4, 64), ("llama.rope.dimension_count", 4, 64),
            ("llama.vocab_size", 4, vocab), ("general.alignment", 4, 32)]

    def use_more_bits(i):  # llama-quant.cpp
        return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2

    tensors = [("token_embd.weight", [h, vocab], Q6_K), ("output_norm.weight", [h], F32), ("rope_freqs.weight", [32], F32)]
    for i in range(n):
        b = f"blk.{i}."
        tensors += [(b + "attn_q.weight", [h, h], Q4_K), (b + "attn_k.weight", [h, kv], Q4_K),
                    (b + "attn_v.weight", [h, kv], Q6_K if use_more_bits(i) else Q4_K),
                    (b + "attn_output.weight", [h, h], Q4_K), (b + "ffn_gate.weight", [h, f], Q4_K),
                    (b + "ffn_up.weight", [h, f], Q4_K),
                    (b + "ffn_down.weight", [f, h], Q6_K if use_more_bits(i) else Q4_K),
                    (b + "attn_norm.weight", [h], F32), (b + "ffn_norm.weight", [h], F32)]
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta))
    for key, kind, value in meta:
        out += gguf_string(key) + struct.pack("<I", kind)
        out += gguf_string(value) if kind == 8 else struct.pack("<I", value)
    for name, dims, kind in tensors:
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", kind, 0)
    (ROOT / "llama-3.2-1b-instruct-q4_k_m.gguf").write_bytes(out)


if __name__ == "__main__":
    llama_8b()
    llama_1b_gguf()
