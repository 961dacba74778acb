#!/usr/bin/env python3
"""Measure LLM inference and training speed and memory on the GPU this runs on, as gpuadvise validation rows.

NOT RUN YET. Written in a session without a GPU machine (issue 18); nothing it would produce is in
data/validation.json. A later session with a GPU runs it once (see "Plan" below) and commits the rows
it writes, with this script's revision, the versions it prints and the GPU it names.

What it measures, with PyTorch and transformers on RANDOM weights built from real config.json shapes
(tests/data/configs/*.config.json by default; the weights' values do not change the time of a dense
model, so no checkpoint is downloaded):
  - weight memory (torch.cuda.memory_allocated after the model is built) and peak memory per phase;
  - decode step time at several batches and contexts, captured in a CUDA graph and replayed (how
    vLLM, SGLang and TensorRT-LLM run decode), with a static KV cache;
  - prefill time of one batch of prompts (eager, SDPA attention);
  - one training step (forward, backward, AdamW step) in bf16: peak memory and tokens/s, for full
    fine-tuning and LoRA (PEFT when installed, else a minimal built-in LoRA on the same projections),
    each with and without activation checkpointing.

Output: one JSON document {"description", "rows", "training_memory_rows", "environment"}: "rows" in the
format of data/validation.json (metrics decode_tokens_per_s, prefill_tokens_per_s, memory_gib,
train_tokens_per_s_per_gpu), "training_memory_rows" in the format of
data/training_memory_validation.json (peak allocated GiB). Every row's source names this script and the
GPU; review and append them by hand.

Plan (fits one run of ~6-8 minutes on an H100/H200; the second run only if the first one fails):
  python3 tools/measure_gpu.py --out $OUT/measured.json            # default: llama-3.2-1b, llama-3.1-8b
  python3 tools/measure_gpu.py --quick --out $OUT/measured.json    # one model, fewer points (~2 min)
Each measurement warms up, then times with CUDA events over --iters repetitions and reports the median.

Requires: torch (CUDA), transformers >= 4.45 (StaticCache); peft optional.
"""
import argparse
import datetime
import gc
import json
import os
import statistics
import sys

GIB = 1024.0**3
HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "..", "tests", "data", "configs")
# gpuadvise preset ids for the bundled configs (the rows name presets so `gpuadvise validate` reads them).
PRESETS = {"llama-3.2-1b": "llama-3.2-1b", "llama-3.2-3b": "llama-3.2-3b", "llama-3.1-8b": "llama-3.1-8b",
           "mistral-7b": "mistral-7b", "llama-2-7b": "llama-2-7b"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def timed(fn, iters, warmup=3):
    import torch
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000.0)
    return statistics.median(times)


def build_model(config_path, dtype):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.from_pretrained(config_path)
    config.torch_dtype = dtype
    config.use_cache = True
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, torch_dtype=dtype, attn_implementation="sdpa")
    model.eval()
    return model, config


def gpu_id(name):
    """The gpuadvise catalog id for torch.cuda.get_device_name() (review before committing rows)."""
    n = name.lower()
    for key, gid in (("h200", "h200-sxm"), ("h100 pcie", "h100-pcie"), ("h100", "h100-sxm"), ("a100-sxm4-80", "a100-80gb-sxm"),
                     ("a100 80gb pcie", "a100-80gb-pcie"), ("a100", "a100-40gb-sxm"), ("l40s", "l40s"), ("l4", "l4"),
                     ("4090", "rtx-4090"), ("b200", "b200")):
        if key in n:
            return gid
    return name


def row(ctx, id_, metric, value, batch, input_tokens, output_tokens, notes, **extra):
    r = {"id": id_, "source": ctx["source"], "framework": ctx["framework"], "gpu": ctx["gpu"], "gpu_count": 1,
         "model": ctx["model"], "weight_format": "bf16", "kv_precision": "bf16", "batch": batch,
         "input_tokens": input_tokens, "output_tokens": output_tokens, "metric": metric, "value": round(value, 4)}
    r.update(extra)
    r["notes"] = notes
    return r


def measure_inference(ctx, config_path, batches, contexts, prefill_len, iters):
    import torch
    from transformers import StaticCache
    rows = []
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    model, config = build_model(config_path, torch.bfloat16)
    weights = torch.cuda.memory_allocated() - base
    rows.append(row(ctx, f"{ctx['tag']}-weights-gib", "memory_gib", weights / GIB, 1, 1, 1,
                    "torch.cuda.memory_allocated() after building the bf16 model (random weights) on the GPU"))
    vocab = config.vocab_size
    with torch.inference_mode():
        # Prefill: one batch of prompts, eager.
        ids = torch.randint(0, vocab, (1, prefill_len), device="cuda")
        t = timed(lambda: model(input_ids=ids, use_cache=False), iters)
        rows.append(row(ctx, f"{ctx['tag']}-prefill-b1-{prefill_len}", "prefill_tokens_per_s", prefill_len / t, 1, prefill_len, 1,
                        f"median of {iters} eager forwards of a {prefill_len}-token prompt (SDPA), no KV cache kept"))
        # Decode: one new token per sequence against a static cache filled to `context`, replayed as a CUDA graph.
        for batch in batches:
            for context in contexts:
                try:
                    cache = StaticCache(config=config, max_batch_size=batch, max_cache_len=context + 8, device="cuda",
                                        dtype=torch.bfloat16)
                    step_ids = torch.randint(0, vocab, (batch, 1), device="cuda")
                    position = torch.full((batch, 1), context, device="cuda", dtype=torch.long)
                    cache_position = torch.tensor([context], device="cuda")
                    # The cache's contents do not change the time: attention reads context positions either way.
                    def step():
                        return model(input_ids=step_ids, position_ids=position, cache_position=cache_position,
                                     past_key_values=cache, use_cache=True).logits
                    stream = torch.cuda.Stream()
                    stream.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(stream):
                        for _ in range(3):
                            step()
                    torch.cuda.current_stream().wait_stream(stream)
                    graph = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(graph):
                        step()
                    t = timed(graph.replay, iters)
                    rows.append(row(ctx, f"{ctx['tag']}-decode-b{batch}-ctx{context}", "decode_tokens_per_s", 1.0 / t, batch,
                                    context, 1,
                                    f"median of {iters} CUDA-graph replays of one decode step for {batch} sequences at position "
                                    f"{context} (StaticCache, SDPA); value = tokens/s per sequence = 1 / step time; "
                                    f"batch tokens/s = {batch / t:.1f}", per_gpu=False))
                    del graph, cache
                except torch.cuda.OutOfMemoryError:
                    log(f"decode b{batch} ctx{context}: out of memory, skipped")
                torch.cuda.empty_cache()
    rows.append(row(ctx, f"{ctx['tag']}-inference-peak-gib", "memory_gib", torch.cuda.max_memory_allocated() / GIB, 1, 1, 1,
                    "peak torch.cuda.max_memory_allocated() over the inference measurements (weights + largest cache)",
                    exclude="peak of the whole inference sweep, kept for the record: the memory_gib metric compares weights only"))
    del model
    gc.collect()
    torch.cuda.empty_cache()
    return rows


def add_lora(model, rank, targets):
    """PEFT LoRA when installed; else a minimal one: frozen base, A (r x in) and B (out x r) trained, scale 2."""
    try:
        from peft import LoraConfig, get_peft_model
        return get_peft_model(model, LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=targets)), "peft"
    except ImportError:
        import torch
        for p in model.parameters():
            p.requires_grad_(False)
        for name, module in list(model.named_modules()):
            for t in targets:
                child = getattr(module, t, None)
                if isinstance(child, torch.nn.Linear):
                    class Lora(torch.nn.Module):
                        def __init__(self, base):
                            super().__init__()
                            self.base = base
                            self.a = torch.nn.Parameter(torch.randn(rank, base.in_features, device="cuda", dtype=base.weight.dtype) * 0.01)
                            self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank, device="cuda", dtype=base.weight.dtype))
                        def forward(self, x):
                            return self.base(x) + 2.0 * (x @ self.a.t()) @ self.b.t()
                    setattr(module, t, Lora(child))
        return model, "built-in"


def measure_training(ctx, config_path, micro_batch, sequence, iters):
    import torch
    rows, memory_rows = [], []
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    for task in ("finetune", "lora"):
        for checkpointing in (False, True):
            label = f"{task}-{'ac' if checkpointing else 'noac'}"
            model = None
            try:
                torch.cuda.empty_cache()
                model, config = build_model(config_path, torch.bfloat16)
                model.config.use_cache = False
                model.train()
                lora_impl = ""
                if task == "lora":
                    model, lora_impl = add_lora(model, 16, targets)
                if checkpointing:
                    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
                    if task == "lora":
                        model.enable_input_require_grads()
                params = [p for p in model.parameters() if p.requires_grad]
                optimizer = torch.optim.AdamW(params, lr=1e-5, fused=True)
                ids = torch.randint(0, config.vocab_size, (micro_batch, sequence), device="cuda")

                def step():
                    loss = model(input_ids=ids, labels=ids).loss
                    loss.backward()
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                step()  # allocate the optimizer state before the peak is reset
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                t = timed(step, iters, warmup=1)
                peak = torch.cuda.max_memory_allocated() / GIB
                tokens = micro_batch * sequence
                notes = (f"bf16 weights, gradients and AdamW moments (fused), {'LoRA r=16 on all projections (' + lora_impl + ')' if task == 'lora' else 'full fine-tune'}, "
                         f"{'activation checkpointing per layer (non-reentrant)' if checkpointing else 'no activation checkpointing'}, "
                         f"SDPA attention, micro-batch {micro_batch} x {sequence} tokens; median of {iters} steps after one warm-up")
                rows.append(row(ctx, f"{ctx['tag']}-train-{label}-tps", "train_tokens_per_s_per_gpu", tokens / t, micro_batch, sequence, 1,
                                notes, stack="torchtune", checkpointing="full" if checkpointing else "none",
                                exclude="" if task == "finetune" else "LoRA speed: validate compares full training"))
                memory_rows.append({"id": f"{ctx['tag']}-train-{label}-peak", "model": ctx["model"],
                                    "task": "lora" if task == "lora" else "finetune", "gpu": ctx["gpu"], "optimizer": "adamw",
                                    "checkpointing": "full" if checkpointing else "none", "value": round(peak, 3),
                                    "notes": notes + "; torch.cuda.max_memory_allocated() over the timed steps",
                                    "source": ctx["source"], "trainer": ctx["framework"], "stack": "torchtune",
                                    "micro_batch": micro_batch, "sequence": sequence, "precision": "bf16-true",
                                    "compile": False, "metric": "allocated", "unit": "GiB"})
                del optimizer, params
            except torch.cuda.OutOfMemoryError:
                log(f"training {label}: out of memory at micro-batch {micro_batch} x {sequence}, skipped")
            del model
            gc.collect()
            torch.cuda.empty_cache()
    return rows, memory_rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="llama-3.2-1b,llama-3.1-8b", help="config names under tests/data/configs")
    ap.add_argument("--batches", default="1,8,32,128")
    ap.add_argument("--contexts", default="512,4096")
    ap.add_argument("--prefill", type=int, default=2048)
    ap.add_argument("--train-sequence", type=int, default=2048)
    ap.add_argument("--train-micro-batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="first model only, batches 1 and 32, context 1024")
    ap.add_argument("--skip-training", action="store_true")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    import torch
    import transformers
    if not torch.cuda.is_available():
        sys.exit("measure_gpu.py: no CUDA device")
    models = args.models.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    contexts = [int(c) for c in args.contexts.split(",")]
    if args.quick:
        models, batches, contexts = models[:1], [1, 32], [1024]
    name = torch.cuda.get_device_name()
    env = {"gpu_name": name, "torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__,
           "date": datetime.datetime.utcnow().strftime("%Y-%m-%d"), "argv": sys.argv[1:]}
    log(json.dumps(env))
    out = {"description": "Measured by tools/measure_gpu.py (random weights from config.json shapes); review, then append "
                          "'rows' to data/validation.json and 'training_memory_rows' to data/training_memory_validation.json",
           "environment": env, "rows": [], "training_memory_rows": []}
    for m in models:
        config_path = os.path.join(CONFIGS, f"{m}.config.json")
        ctx = {"tag": f"measured-{gpu_id(name)}-{m}", "gpu": gpu_id(name), "model": PRESETS.get(m, m),
               "source": f"gpuadvise tools/measure_gpu.py on one {name}, {env['date']} (torch {env['torch']}, CUDA {env['cuda']}, "
                         f"transformers {env['transformers']}); config tests/data/configs/{m}.config.json",
               "framework": f"PyTorch {env['torch']} + transformers {env['transformers']} (eager SDPA; decode in CUDA graphs)"}
        log(f"== {m}: inference")
        out["rows"] += measure_inference(ctx, config_path, batches, contexts, args.prefill, args.iters)
        if not args.skip_training:
            log(f"== {m}: training")
            rows, memory_rows = measure_training(ctx, config_path, args.train_micro_batch, args.train_sequence, max(3, args.iters // 2))
            out["rows"] += rows
            out["training_memory_rows"] += memory_rows
        with open(args.out, "w") as f:  # written after every model, so a time-out keeps what was measured
            json.dump(out, f, indent=2)
    log(f"wrote {len(out['rows'])} rows and {len(out['training_memory_rows'])} training-memory rows to {args.out}")


if __name__ == "__main__":
    main()
