"""CLIP-IQA (Wang et al., AAAI 2023), as pyiqa 0.1.16 computes it (``pyiqa.create_metric("clipiqa")``), and
with the official 'Good photo.' / 'Bad photo.' pair as piq 0.8's ``CLIPIQA`` does.

vsrbench's own CLIP RN50 (image and text encoders, OpenAI's parameter names), loading OpenAI's published
``RN50.pt`` (a TorchScript archive whose sha256 is in its URL; a plain state dict with the same keys is
accepted too), every key required. What pyiqa's ``CLIPIQA.forward`` does:

- the frame, RGB in [0, 1], is normalised with CLIP's mean and std and encoded **at its own size** (no
  resize, no crop): the modified ResNet-50 (three-convolution stem, anti-aliased strided blocks) and its
  attention pool **without** the positional embedding (``pos_embedding=False``; with True, the embedding is
  bicubically resized to the token count, as pyiqa's option does);
- the text features of antonym prompts come from CLIP's text encoder (context 77, causal mask, the
  end-of-text token's feature projected); pyiqa's five pairs: 'Good image' / 'bad image', 'Sharp image' /
  'blurry image', 'sharp edges' / 'blurry edges', 'High resolution image' / 'low resolution image',
  'Noise-free image' / 'noisy image' (piq and the official code: 'Good photo.' / 'Bad photo.');
- logits ``exp(logit_scale) * cos(image, text)``, a softmax within each pair, the mean over the pairs of
  the positive prompt's probability (0..1, higher is better).

The prompts' token ids (OpenAI's BPE tokenizer, ``clip.tokenize``) are stored here as data
(:data:`PROMPT_TOKENS`); their text features are computed once per loaded model (pyiqa recomputes them on
every call), and the attention pool computes only the query it returns (the mean token's).
"""
from __future__ import annotations

import functools
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vsrbench.core.errors import WeightsError
from vsrbench.metrics._nriqa import clip_rows, load_strict, torch_load, unit_batch
from vsrbench.metrics.extension import MetricWeights, register_weights, require_weights

__all__ = ["PROMPTS", "PROMPT_TOKENS", "ClipRN50", "get_clip", "clipiqa_scores", "score_clipiqa", "score_piq"]

_RN50_SHA256 = "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762"
register_weights(MetricWeights(
    "clip-rn50", "RN50.pt", f"https://openaipublic.azureedge.net/clip/models/{_RN50_SHA256}/RN50.pt",
    "OpenAI's CLIP RN50 (openai/CLIP clip/clip.py _MODELS; the sha256 is the URL's folder name)",
    _RN50_SHA256, "OpenAI's published CLIP RN50 file"))

# the antonym pairs, positive first: pyiqa's clipiqa (pyiqa/archs/clipiqa_arch.py) and the official / piq pair
PROMPTS = {
    "pyiqa": ("Good image", "bad image", "Sharp image", "blurry image", "sharp edges", "blurry edges",
              "High resolution image", "low resolution image", "Noise-free image", "noisy image"),
    "piq": ("Good photo.", "Bad photo."),
}
# clip.tokenize(prompt) without its zero padding: <|startoftext|> (49406), the BPE tokens, <|endoftext|> (49407)
PROMPT_TOKENS = {
    "Good image": (49406, 886, 2867, 49407), "bad image": (49406, 2103, 2867, 49407),
    "Sharp image": (49406, 8157, 2867, 49407), "blurry image": (49406, 21977, 2867, 49407),
    "sharp edges": (49406, 8157, 20938, 49407), "blurry edges": (49406, 21977, 20938, 49407),
    "High resolution image": (49406, 1400, 9977, 2867, 49407),
    "low resolution image": (49406, 1042, 9977, 2867, 49407),
    "Noise-free image": (49406, 9307, 268, 1139, 2867, 49407), "noisy image": (49406, 33495, 2867, 49407),
    "Good photo.": (49406, 886, 1125, 269, 49407), "Bad photo.": (49406, 2103, 1125, 269, 49407),
}
CONTEXT = 77
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# in OpenAI's TorchScript file, not in a state dict saved from the module (pyiqa's build_model drops them)
_SCALARS = ("input_resolution", "context_length", "vocab_size")


class _Bottleneck(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        self.conv1, self.bn1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False), nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = nn.Conv2d(planes, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or cin != planes * 4:  # '-1' is the parameterless average pool
            self.downsample = nn.Sequential()
            self.downsample.add_module("0", nn.Conv2d(cin, planes * 4, 1, bias=False))
            self.downsample.add_module("1", nn.BatchNorm2d(planes * 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        if self.stride > 1:
            y = F.avg_pool2d(y, self.stride)
        y = self.bn3(self.conv3(y))
        if self.downsample is not None:
            x = F.avg_pool2d(x, self.stride) if self.stride > 1 else x
            x = self.downsample(x)
        return F.relu(y + x)


class _AttnPool(nn.Module):
    def __init__(self, dim: int = 2048, heads: int = 32, out: int = 1024, grid: int = 7):
        super().__init__()
        self.heads = heads
        self.positional_embedding = nn.Parameter(torch.zeros(grid * grid + 1, dim))
        self.k_proj, self.q_proj, self.v_proj = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.c_proj = nn.Linear(dim, out)

    def forward(self, x: torch.Tensor, pos_embedding: bool = False) -> torch.Tensor:
        """(N, C, H, W) -> (N, out): the attention output of the mean token (the only one CLIP returns)."""
        n, c = x.shape[:2]
        t = x.flatten(2).transpose(1, 2)  # (N, HW, C)
        t = torch.cat([t.mean(1, keepdim=True), t], 1)
        if pos_embedding:  # pyiqa's option: the (HW0+1, C) table resized bicubically to (HW+1, C)
            pe = F.interpolate(self.positional_embedding[None, None], size=(t.shape[1], c), mode="bicubic")[0, 0]
            t = t + pe
        h, d = self.heads, c // self.heads
        q = self.q_proj(t[:, :1]).view(n, 1, h, d).transpose(1, 2)
        k = self.k_proj(t).view(n, -1, h, d).transpose(1, 2)
        v = self.v_proj(t).view(n, -1, h, d).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v)  # (N, h, 1, d)
        return self.c_proj(y.transpose(1, 2).reshape(n, c))


class _Visual(nn.Module):
    """CLIP's modified ResNet-50 (layers 3, 4, 6, 3; width 64; 1024-d output)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
        self.conv3, self.bn3 = nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64)
        cin, layers = 64, []
        for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layers.append(nn.Sequential(*[_Bottleneck(cin if i == 0 else planes * 4, planes, stride if i == 0 else 1)
                                          for i in range(blocks)]))
            cin = planes * 4
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.attnpool = _AttnPool()

    def forward(self, x: torch.Tensor, pos_embedding: bool = False) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)  # faster convolutions on CPU
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)):
            x = F.relu(bn(conv(x)))
        x = F.avg_pool2d(x, 2)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x.contiguous(), pos_embedding)


class _TextAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.zeros(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, c = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).view(n, length, 3, self.heads, -1).permute(
            2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(y.transpose(1, 2).reshape(n, length, c))


class _TextBlock(nn.Module):
    def __init__(self, dim: int = 512, heads: int = 8):
        super().__init__()
        self.attn = _TextAttention(dim, heads)
        self.ln_1, self.ln_2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(dim, dim * 4))
        self.mlp.add_module("c_proj", nn.Linear(dim * 4, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        h = self.mlp.c_fc(self.ln_2(x))
        return x + self.mlp.c_proj(h * torch.sigmoid(1.702 * h))  # QuickGELU


class _Text(nn.Module):
    def __init__(self, layers: int = 12):
        super().__init__()
        self.resblocks = nn.Sequential(*[_TextBlock() for _ in range(layers)])


class ClipRN50(nn.Module):
    """CLIP RN50 with OpenAI's parameter names. :meth:`encode_text` takes token ids, :meth:`forward` RGB
    ``(N, 3, H, W)`` in [0, 1] and returns the CLIP-IQA score of each image for one prompt set."""

    def __init__(self):
        super().__init__()
        self.visual = _Visual()
        self.transformer = _Text()
        self.token_embedding = nn.Embedding(49408, 512)
        self.positional_embedding = nn.Parameter(torch.zeros(CONTEXT, 512))
        self.ln_final = nn.LayerNorm(512)
        self.text_projection = nn.Parameter(torch.zeros(512, 1024))
        self.logit_scale = nn.Parameter(torch.zeros(()))
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    @torch.no_grad()
    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """(P, 77) token ids -> (P, 1024) text features (the end-of-text token's, projected)."""
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.ln_final(self.transformer.resblocks(x))
        return x[torch.arange(x.shape[0]), tokens.argmax(-1)] @ self.text_projection

    @functools.lru_cache(maxsize=4)
    def anchors(self, prompts: str) -> torch.Tensor:
        """The unit text features of prompt set ``prompts`` (a key of :data:`PROMPTS`), computed once."""
        tokens = torch.zeros(len(PROMPTS[prompts]), CONTEXT, dtype=torch.long)
        for i, p in enumerate(PROMPTS[prompts]):
            tokens[i, :len(PROMPT_TOKENS[p])] = torch.tensor(PROMPT_TOKENS[p])
        t = self.encode_text(tokens.to(self.positional_embedding.device))
        return t / t.norm(dim=-1, keepdim=True)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, prompts: str = "pyiqa", pos_embedding: bool = False) -> torch.Tensor:
        f = self.visual((x - self.mean) / self.std, pos_embedding)
        f = f / f.norm(dim=-1, keepdim=True)
        logits = self.logit_scale.exp() * f @ self.anchors(prompts).t()
        return logits.view(x.shape[0], -1, 2).softmax(-1)[..., 0].mean(1)


def _read(path: Path) -> dict:
    """The tensors of ``RN50.pt``: OpenAI's TorchScript archive (its ``state_dict``) or a plain state dict."""
    try:
        is_script = zipfile.is_zipfile(path) and any(n.endswith("/constants.pkl") for n in zipfile.ZipFile(path).namelist())
    except OSError:
        is_script = False
    if not is_script:
        return torch_load(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    except Exception as e:  # a damaged archive
        raise WeightsError(f"cannot read the TorchScript weights file {str(path)!r}: {type(e).__name__}") from None


@functools.lru_cache(maxsize=4)
def _cached(path: str, device: str) -> ClipRN50:
    state = _read(Path(path))
    if isinstance(state, dict):
        state = {k: v for k, v in state.items() if k not in _SCALARS}
    net = ClipRN50()
    load_strict(net, state, path, "a CLIP RN50 weights file (OpenAI's layout)")
    return net.float().eval().requires_grad_(False).to(device)


def get_clip(weights=None, device="cpu") -> ClipRN50:
    """CLIP RN50 on ``device``, OpenAI's ``RN50.pt`` found locally (``weights``: the file or a folder
    holding it); loaded once per file and device."""
    path = require_weights("clip-rn50", weights)
    return _cached(str(path), str(torch.device(device)))


def clipiqa_scores(frames, *, prompts: str = "pyiqa", pos_embedding: bool = False, weights=None,
                   device="cpu") -> "float | np.ndarray":
    """CLIP-IQA score of each frame, as pyiqa's ``clipiqa`` (``prompts="pyiqa"``) or piq's ``CLIPIQA``
    (``prompts="piq"``) computes it.

    Parameters
    ----------
    frames : numpy.ndarray or torch.Tensor
        One RGB uint8 frame ``(H, W, 3)`` or a stack ``(N, H, W, 3)`` of one size (or a float tensor
        ``(N, 3, H, W)`` in [0, 1]); scored at its own size.
    prompts : str
        ``"pyiqa"`` (five antonym pairs) or ``"piq"`` ('Good photo.' / 'Bad photo.', the official pair).
    pos_embedding : bool
        Add the attention pool's positional embedding, resized (pyiqa's ``pos_embedding`` option; False in
        both ``clipiqa`` and piq).
    weights : str or os.PathLike, optional
        OpenAI's ``RN50.pt`` (or a folder holding it); looked up locally when None.
    device : str or torch.device
        Where the network runs.

    Returns
    -------
    float or numpy.ndarray
        A float for one frame, an ``(N,)`` array for a stack (0..1, higher is better).

    Raises
    ------
    vsrbench.core.errors.WeightsError
        The file is missing, unreadable or not CLIP RN50.
    vsrbench.core.errors.InputError
        Frames of another shape or type.
    """
    if prompts not in PROMPTS:
        from vsrbench.core.errors import UnknownNameError

        raise UnknownNameError("CLIP-IQA prompt set", prompts, PROMPTS)
    x, single = unit_batch(frames, device)
    net = get_clip(weights, device)
    # one frame per pass: on CPU, a stack of 576x720 frames ran ~1.4x slower per frame than single frames
    out = torch.cat([net(x[i:i + 1], prompts, bool(pos_embedding)) for i in range(x.shape[0])])
    out = out.cpu().numpy().astype(np.float64)
    return float(out[0]) if single else out


def _scorer(prompts: str, metric: str):
    def score(clip) -> list[tuple[int, float]]:
        net = get_clip(clip.weights.get("clip-rn50"), clip.device)
        return clip_rows(clip, lambda f: net(unit_batch(f, clip.device)[0], prompts).cpu().numpy(), 1)

    score.__doc__ = f"Scorer of metric ``{metric}``: CLIP-IQA with the {prompts} prompts per frame."
    return score


score_clipiqa = _scorer("pyiqa", "clipiqa")
score_piq = _scorer("piq", "clipiqa-piq")
