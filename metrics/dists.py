"""DISTS (Ding, Ma, Wang and Simoncelli, 2020): deep image structure and texture similarity.

vsrbench's own network, equal to the authors' ``DISTS_pytorch`` (dingkeyan93/DISTS,
``DISTS_pytorch/DISTS_pt.py``), pyiqa's ``dists`` and ``piq.DISTS``:

- the backbone is torchvision's ImageNet VGG16 (``vgg16-397923af.pth``, the file LPIPS-vgg uses,
  looked up locally and checked against the sha256 prefix in its name by
  :func:`vsrbench.metrics.lpips.backbone_record`; ``vsrbench weights download lpips-vgg``), its five
  max-poolings replaced by L2 pooling (a 3x3 Hann window, stride 2: ``sqrt(conv(x^2) + 1e-12)``);
- the features are the input image itself and the ReLU outputs ``relu1_2 .. relu5_3`` (3 + 64 + 128
  + 256 + 512 + 512 = 1475 channels), the input normalised by the ImageNet mean and std for the
  network (the first "feature" is the unnormalised image in [0, 1]);
- per channel, a structure term ``(2 cov + c) / (var_x + var_y + c)`` and a texture term
  ``(2 mu_x mu_y + c) / (mu_x^2 + mu_y^2 + c)`` (``c = 1e-6``, statistics over the whole map), weighted
  by the learned ``alpha`` (texture) and ``beta`` (structure), both divided by their total sum;
  DISTS = 1 - the weighted sum (0 for identical images, lower is better);
- ``alpha`` and ``beta`` are the authors' file ``weights.pt`` shipped in the ``DISTS_pytorch`` wheel
  (12 KB; found without importing the package, like LPIPS's linear layers; its sha256 is the one the
  wheel's RECORD lists, also the prefix of pyiqa's copy ``DISTS_weights-f5e65c96.pth``).

Input convention: RGB frames in [0, 1] (``uint8 / 255``), the whole frame, as ``DISTS_pytorch`` and
pyiqa compute it (no resizing: ``piq.DISTS`` first shrinks frames whose short side exceeds 256 px, so it
equals this only on such small frames). The evaluation scorer (:func:`score_dists`) scores full frames
and ignores the protocol's border crop; frames of different sizes follow the protocol's size rule.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vsrbench.core.errors import InputError, WeightsError
from vsrbench.core.weights import check_published
from vsrbench.metrics.lpips import _torch_load, backbone_record

__all__ = ["ALPHA_BETA_SHA256", "ALPHA_BETA_SOURCE", "alpha_beta_path", "dists_weights_record", "DISTS",
           "get_dists", "dists", "score_dists"]

ALPHA_BETA_SHA256 = "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218"
ALPHA_BETA_SOURCE = "the `DISTS_pytorch` Python package (pip install DISTS_pytorch==0.1), file DISTS_pytorch/weights.pt"
CHANNELS = (3, 64, 128, 256, 512, 512)
# torchvision vgg16 ``features`` indices of the convolutions of each stage (a ReLU follows each)
_STAGES = ((0, 2), (5, 7), (10, 12, 14), (17, 19, 21), (24, 26, 28))
_IN_OUT = {0: (3, 64), 2: (64, 64), 5: (64, 128), 7: (128, 128), 10: (128, 256), 12: (256, 256), 14: (256, 256),
           17: (256, 512), 19: (512, 512), 21: (512, 512), 24: (512, 512), 26: (512, 512), 28: (512, 512)}
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)
_C = 1e-6


def alpha_beta_path() -> Path:
    """The authors' alpha/beta file shipped in the ``DISTS_pytorch`` wheel (located, not imported)."""
    spec = importlib.util.find_spec("DISTS_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"DISTS alpha/beta weights not found: {ALPHA_BETA_SOURCE} is not installed")
    p = Path(list(spec.submodule_search_locations)[0]) / "weights.pt"
    if not p.is_file():
        raise WeightsError(f"DISTS alpha/beta weights {str(p)!r} missing from the installed DISTS_pytorch package")
    return p


def dists_weights_record(vgg_weights=None, alpha_beta=None) -> dict:
    """The files a DISTS score uses, as results record them:
    ``{"dists:backbone": {...}, "dists:alpha_beta": {"path", "sha256", "verified"}}``."""
    ab = Path(alpha_beta) if alpha_beta is not None else alpha_beta_path()
    if not ab.is_file():
        raise WeightsError(f"DISTS alpha/beta weights {str(ab)!r} not found; {ALPHA_BETA_SOURCE}")
    return {"dists:backbone": backbone_record("vgg", vgg_weights),
            "dists:alpha_beta": check_published(ab, "weights.pt", sha256=ALPHA_BETA_SHA256,
                                                what="the DISTS authors' alpha/beta file",
                                                get=f"reinstall {ALPHA_BETA_SOURCE}")}


def _hann3() -> torch.Tensor:
    a = np.hanning(5)[1:-1]
    g = torch.tensor(np.outer(a, a), dtype=torch.float32)
    return g / g.sum()


class DISTS(nn.Module):
    """DISTS: ``forward(x, y)`` of two ``(N, 3, H, W)`` float32 batches in [0, 1] -> ``(N,)``."""

    def __init__(self, vgg_weights=None, alpha_beta=None):
        super().__init__()
        self.convs = nn.ModuleDict({str(i): nn.Conv2d(cin, cout, 3, padding=1) for i, (cin, cout) in _IN_OUT.items()})
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1))
        self.register_buffer("pool", _hann3().view(1, 1, 3, 3))
        self.register_buffer("alpha", torch.zeros(1, sum(CHANNELS), dtype=torch.float64))
        self.register_buffer("beta", torch.zeros(1, sum(CHANNELS), dtype=torch.float64))
        self.record = dists_weights_record(vgg_weights, alpha_beta)
        self._load(Path(self.record["dists:backbone"]["path"]), Path(self.record["dists:alpha_beta"]["path"]))
        self.eval().requires_grad_(False)

    def _load(self, backbone: Path, alpha_beta: Path) -> None:
        sd = _torch_load(backbone)
        for i, conv in self.convs.items():
            for part in ("weight", "bias"):
                key = f"features.{i}.{part}"
                if key not in sd or tuple(sd[key].shape) != tuple(getattr(conv, part).shape):
                    raise WeightsError(f"{str(backbone)!r} is not a torchvision vgg16 checkpoint: {key} missing "
                                       f"or of another shape")
                getattr(conv, part).data.copy_(sd[key])
        ab = _torch_load(alpha_beta)
        for name in ("alpha", "beta"):
            if name not in ab or ab[name].numel() != sum(CHANNELS):
                raise WeightsError(f"{str(alpha_beta)!r} lacks {name!r} with {sum(CHANNELS)} values")
        a, b = ab["alpha"].double(), ab["beta"].double()
        total = a.sum() + b.sum()  # both are divided by the sum of all weights
        self.alpha.copy_((a / total).view(1, -1))
        self.beta.copy_((b / total).view(1, -1))

    def _l2pool(self, h: torch.Tensor) -> torch.Tensor:
        c = h.shape[1]
        out = F.conv2d(h * h, self.pool.expand(c, 1, 3, 3), stride=2, padding=1, groups=c)
        return out.add_(1e-12).sqrt_()

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The six feature maps of a batch in [0, 1]: the image and relu1_2 .. relu5_3."""
        h = ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        out = [x]
        for s, stage in enumerate(_STAGES):
            if s:
                h = self._l2pool(h)
            for i in stage:
                h = _conv_relu(self.convs[str(i)], h)
            out.append(h)
        return out

    @torch.no_grad()
    def distance(self, fx: list[torch.Tensor], fy: list[torch.Tensor]) -> torch.Tensor:
        """DISTS between two feature lists of equal batch size -> ``(N,)``."""
        s1, s2 = [], []
        for a, b in zip(fx, fy):
            ma, mb = a.mean((2, 3)), b.mean((2, 3))
            va = (a - ma[..., None, None]).square_().mean((2, 3))
            vb = (b - mb[..., None, None]).square_().mean((2, 3))
            cov = (a * b).mean((2, 3)) - ma * mb
            s1.append((2 * ma * mb + _C) / (ma * ma + mb * mb + _C))
            s2.append((2 * cov + _C) / (va + vb + _C))
        # the weighted sum of the 2 x 1475 terms in float64 (float32 would leave ~1e-6 of rounding:
        # identical frames scoring -1e-6 instead of 0)
        texture = (torch.cat(s1, 1).double() * self.alpha).sum(1)
        structure = (torch.cat(s2, 1).double() * self.beta).sum(1)
        return 1 - (texture + structure)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        f = self.features(torch.cat([x, y]))
        return self.distance([t[:n] for t in f], [t[n:] for t in f])


def _conv_relu(conv: nn.Conv2d, h: torch.Tensor) -> torch.Tensor:
    """ReLU(conv(h)); on the CPU through oneDNN's fused convolution + ReLU when this torch has it (the
    same convolution, the ReLU applied as it is written, ~20% faster than two passes)."""
    if h.device.type == "cpu" and _FUSED_OK[0]:
        try:
            return torch.ops.mkldnn._convolution_pointwise(h, conv.weight, conv.bias, [1, 1], [1, 1], [1, 1], 1,
                                                           "relu", [], "")
        except (AttributeError, RuntimeError):  # a torch built without oneDNN's fused ops
            _FUSED_OK[0] = False
    return torch.relu_(conv(h))


_FUSED_OK = [True]


@functools.lru_cache(maxsize=4)
def _cached(backbone: str, alpha_beta: str, device: str) -> DISTS:
    return DISTS(backbone, alpha_beta).to(device).to(memory_format=torch.channels_last)


def get_dists(vgg_weights=None, device="cpu", alpha_beta=None) -> DISTS:
    """A cached :class:`DISTS` on ``device`` (``vgg_weights``: the VGG16 file or a folder holding it,
    looked up locally when None; ``alpha_beta``: the alpha/beta file, the ``DISTS_pytorch`` one when None)."""
    rec = dists_weights_record(vgg_weights, alpha_beta)
    return _cached(rec["dists:backbone"]["path"], rec["dists:alpha_beta"]["path"], str(torch.device(device)))


def _unit(x, what: str, device) -> tuple[torch.Tensor, bool]:
    """RGB frames -> ``(N, 3, H, W)`` float32 in [0, 1] on ``device``, and whether a batch was given."""
    from vsrbench.metrics.spatial import as_batch

    t, batched = as_batch(x, what)
    if t.dtype == torch.uint8:
        t = t.to(device=device, dtype=torch.float32).div_(255.0)
    elif t.is_floating_point():
        if t.numel() and (float(t.min()) < 0 or float(t.max()) > 1):
            raise InputError(f"{what}: float frames must be in [0, 1] (got {float(t.min()):g}..{float(t.max()):g})")
        t = t.to(device=device, dtype=torch.float32)
    else:
        raise InputError(f"{what}: expected uint8 frames or float frames in [0, 1], got {t.dtype}")
    return t, batched


def dists(pred, gt, *, vgg_weights=None, device="cpu", size_rule: str = "error") -> "float | np.ndarray":
    """DISTS per frame (lower is better; 0 for identical frames).

    Parameters
    ----------
    pred, gt : numpy.ndarray or torch.Tensor
        The output and the reference: one frame ``(H, W, 3)`` uint8 / ``(3, H, W)`` float in [0, 1], or a batch
        ``(N, H, W, 3)`` / ``(N, 3, H, W)``; RGB, whole frames (no crop, no resize).
    vgg_weights : str or os.PathLike, optional
        torchvision's ``vgg16-397923af.pth`` (or a folder holding it); looked up locally when None.
    device : str or torch.device
        Where the network runs.
    size_rule : str
        Frames of different sizes: ``"error"``, ``"crop-pred"`` or ``"crop-both"`` (as a protocol's size rule).

    Returns
    -------
    float or numpy.ndarray
        A float for one frame, an ``(N,)`` float64 array for a batch.

    Raises
    ------
    vsrbench.core.errors.WeightsError
        The VGG16 file or the alpha/beta file is missing, unreadable or not the published file.
    vsrbench.core.errors.InputError
        Frames of another shape, type or range.

    Examples
    --------
    Needs the VGG16 file (``vsrbench weights download lpips-vgg``) and ``DISTS_pytorch``::

        from vsrbench.metrics.dists import dists
        dists(out, gt)  # (H, W, 3) uint8 frames: a float
    """
    from vsrbench.metrics.spatial import match_sizes

    model = get_dists(vgg_weights, device)
    dev = model.mean.device
    p, batched = _unit(pred, "output frame", dev)
    g, _ = _unit(gt, "GT frame", dev)
    if p.shape[0] != g.shape[0]:
        raise InputError(f"{p.shape[0]} output frames but {g.shape[0]} GT frames")
    p, g = match_sizes(p, g, size_rule)
    # frame by frame on the CPU: a batch's activation maps outgrow the caches (as LPIPS)
    step = 1 if dev.type == "cpu" else max(1, p.shape[0])
    with torch.inference_mode():
        v = torch.cat([model(p[i:i + step], g[i:i + step]) for i in range(0, p.shape[0], step)])
    v = v.double().cpu().numpy()
    return v if batched else float(v[0])


def score_dists(clip) -> list[tuple[int, float]]:
    """The scorer of ``dists`` (:mod:`vsrbench.metrics.extension`): one row per scored frame, the whole
    RGB frames of output and GT, the protocol's size rule for frames of different sizes."""
    from vsrbench.metrics.spatial import match_sizes

    model = get_dists(clip.weights.get("lpips-vgg"), clip.device)
    dev = model.mean.device
    rows = []
    for t in clip.frames:
        p, _ = _unit(clip.frame(t), "output frame", dev)
        g, _ = _unit(clip.frame(t, gt=True), "GT frame", dev)
        p, g = match_sizes(p, g, clip.protocol.size_rule, f"sequence {clip.name!r}, frame {t}", warn=False)
        with torch.inference_mode():
            rows.append((int(t), float(model(p, g)[0])))
    return rows
