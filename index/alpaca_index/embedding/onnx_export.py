"""Sentence-transformers BERT folder → one ONNX graph (encoder, pooling, normalisation), without torch.

The default install has no torch, so the packaged MiniLM (and a model `alpaca tune` saved) is
converted here from its safetensors weights with numpy and the `onnx` package: the same graph a
BERT forward pass computes, written once per weights into the per-user cache, keyed by the
weights' sha256. tests/index/test_embedding.py checks the vectors against sentence-transformers.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from alpaca_index.embedding.model_dir import EXPORT_VERSION, INT8, WEIGHTS, ModelDir, ModelNotFound, cache_dir

OPSET = 17  # LayerNormalization is a standard op from 17 on
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "sentence_embedding"


def export_onnx(model: str | Path | ModelDir, int8: bool = False) -> Path:
    """Path of the model's ONNX file (fp32, or dynamically quantised int8), exporting it on first use."""
    model = model if isinstance(model, ModelDir) else ModelDir.open(str(model))
    precision = INT8 if int8 else "fp32"
    target = cache_dir() / f"{model.weights_sha256[:32]}-{model.pooling}-v{EXPORT_VERSION}" / f"model-{precision}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if int8:
            _quantize(export_onnx(model), tmp)
        else:
            import onnx

            onnx.save_model(build_graph(model), str(tmp))
        os.replace(tmp, target)  # atomic: a second process exporting at once just wins or loses the race
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def _load_weights(model: ModelDir) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    weights = {}
    for name, value in load_file(str(model.path / WEIGHTS)).items():
        for prefix in ("bert.", "0.auto_model.", "auto_model."):
            if name.startswith(prefix):
                name = name[len(prefix):]
        weights[name] = np.asarray(value, dtype=np.float32)
    return weights


def build_graph(model: ModelDir):
    """The BERT encoder as ONNX ops (opset 17), mean or CLS pooling, L2 normalisation."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    config = model.config
    if config.get("model_type") not in ("bert", None) or config.get("hidden_act", "gelu") != "gelu":
        raise ModelNotFound(f"embedding model at {model.path}: only BERT encoders with GELU can be exported "
                            f"(model_type {config.get('model_type')!r}, hidden_act {config.get('hidden_act')!r})")
    w = _load_weights(model)
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    head_dim, eps = hidden // heads, float(config.get("layer_norm_eps", 1e-12))
    nodes, inits = [], []

    def const(name: str, array) -> str:
        array = np.asarray(array)
        if array.dtype.kind == "f":  # numpy promotes to float64 in the folding above; the graph is fp32
            array = array.astype(np.float32)
        inits.append(numpy_helper.from_array(array, name))
        return name

    def op(kind: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(kind, inputs, [output], name=output, **attrs))
        return output

    def linear(x: str, prefix: str, out: str, scale: float = 1.0) -> str:
        """x @ W.T + b (the transposed weight is stored, so there is no Transpose at run time)."""
        weight = const(f"{prefix}.wt", np.ascontiguousarray(w[f"{prefix}.weight"].T * scale))
        bias = const(f"{prefix}.b", w[f"{prefix}.bias"] * scale)
        return op("Add", [op("MatMul", [x, weight], f"{out}.mm"), bias], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return op("LayerNormalization", [x, const(f"{prefix}.g", w[f"{prefix}.weight"]),
                                         const(f"{prefix}.beta", w[f"{prefix}.bias"])], out, axis=-1, epsilon=eps)

    # embeddings: words + positions (+ token type 0, folded into the positions: one segment only)
    one = const("one_i", np.array(1, dtype=np.int64))
    seq_len = op("Gather", [op("Shape", ["input_ids"], "ids_shape"), one], "seq_len", axis=0)
    positions = op("Range", [const("zero_i", np.array(0, dtype=np.int64)), seq_len, one], "positions")
    position_table = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    x = op("Add", [op("Gather", [const("word_emb", w["embeddings.word_embeddings.weight"]), "input_ids"], "words"),
                   op("Gather", [const("pos_emb", position_table), positions], "pos")], "emb")
    x = layer_norm(x, "embeddings.LayerNorm", "emb.ln")

    # padding: an additive -inf-like bias on the attention scores (as transformers does)
    mask = op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask4 = op("Unsqueeze", [mask, const("axes12", np.array([1, 2], dtype=np.int64))], "mask4")
    score_bias = op("Mul", [op("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), mask4], "unmask"),
                            const("neg_big", np.array(np.finfo(np.float32).min, dtype=np.float32))], "score_bias")
    split = const("qkv_split", np.array([hidden] * 3, dtype=np.int64))
    head_shape = const("head_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merged_shape = const("merged_shape", np.array([0, 0, hidden], dtype=np.int64))

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        a = f"{p}.attention.self"
        # one MatMul for Q, K and V; 1/sqrt(head_dim) folded into Q's weights
        scale = 1.0 / np.sqrt(head_dim)
        w[f"{p}.qkv.weight"] = np.concatenate([w[f"{a}.query.weight"] * scale, w[f"{a}.key.weight"],
                                               w[f"{a}.value.weight"]])
        w[f"{p}.qkv.bias"] = np.concatenate([w[f"{a}.query.bias"] * scale, w[f"{a}.key.bias"], w[f"{a}.value.bias"]])
        qkv = linear(x, f"{p}.qkv", f"l{i}.qkv")
        nodes.append(helper.make_node("Split", [qkv, split], [f"l{i}.q", f"l{i}.k", f"l{i}.v"], axis=-1,
                                      name=f"l{i}.split"))
        q, k, v = (op("Reshape", [f"l{i}.{t}", head_shape], f"l{i}.{t}h") for t in "qkv")
        q = op("Transpose", [q], f"l{i}.qt", perm=[0, 2, 1, 3])
        k = op("Transpose", [k], f"l{i}.kt", perm=[0, 2, 3, 1])
        v = op("Transpose", [v], f"l{i}.vt", perm=[0, 2, 1, 3])
        scores = op("Add", [op("MatMul", [q, k], f"l{i}.qk"), score_bias], f"l{i}.scores")
        context = op("MatMul", [op("Softmax", [scores], f"l{i}.probs", axis=-1), v], f"l{i}.ctx")
        context = op("Reshape", [op("Transpose", [context], f"l{i}.ctxt", perm=[0, 2, 1, 3]), merged_shape],
                     f"l{i}.ctxm")
        attended = linear(context, f"{p}.attention.output.dense", f"l{i}.attn")
        x = layer_norm(op("Add", [attended, x], f"l{i}.res1"), f"{p}.attention.output.LayerNorm", f"l{i}.ln1")
        inner = linear(x, f"{p}.intermediate.dense", f"l{i}.inner")
        # exact GELU, 0.5·x·(1 + erf(x/√2)): onnxruntime fuses this pattern into one op
        erf = op("Erf", [op("Mul", [inner, const(f"l{i}.rsqrt2", np.array(1 / np.sqrt(2), dtype=np.float32))],
                            f"l{i}.gs")], f"l{i}.erf")
        gelu = op("Mul", [op("Mul", [inner, op("Add", [erf, "one_f"], f"l{i}.erf1")], f"l{i}.gx"),
                          const(f"l{i}.half", np.array(0.5, dtype=np.float32))], f"l{i}.gelu")
        out = linear(gelu, f"{p}.output.dense", f"l{i}.out")
        x = layer_norm(op("Add", [out, x], f"l{i}.res2"), f"{p}.output.LayerNorm", f"l{i}.ln2")

    axis1 = const("axes1", np.array([1], dtype=np.int64))
    if model.pooling == "cls":
        pooled = op("Gather", [x, const("zero_idx", np.array(0, dtype=np.int64))], "pooled", axis=1)
    else:  # mean over real tokens
        mask3 = op("Unsqueeze", [mask, const("axes2", np.array([2], dtype=np.int64))], "mask3")
        summed = op("ReduceSum", [op("Mul", [x, mask3], "masked"), axis1], "summed", keepdims=0)
        count = op("Max", [op("ReduceSum", [mask3, axis1], "count", keepdims=0),
                           const("min_count", np.array(1e-9, dtype=np.float32))], "count_c")
        pooled = op("Div", [summed, count], "pooled")
    norm = op("Max", [op("ReduceL2", [pooled], "norm", axes=[1], keepdims=1),  # axes: an attribute until opset 18
                      const("min_norm", np.array(1e-12, dtype=np.float32))], "norm_c")
    op("Div", [pooled, norm], OUTPUT)

    graph = helper.make_graph(
        nodes, "sentence_embedding",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"]) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", hidden])], inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="alpaca-onnx-export", producer_version=str(EXPORT_VERSION))
    onnx_model.ir_version = min(onnx_model.ir_version, 8)  # readable by every onnxruntime >= 1.14
    onnx.checker.check_model(onnx_model)
    return onnx_model
