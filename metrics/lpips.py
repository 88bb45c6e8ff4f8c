"""LPIPS v0.1 (Zhang et al., 2018) with feature reuse, on CPU or CUDA.

The network is vsrbench's own code; its weights come from two places:

- the learned linear layers (``lin0..``) ship with the ``lpips`` package
  (``lpips/weights/v0.1/{alex,vgg,squeeze}.pth``), found without importing it;
- the ImageNet backbone is torchvision's release file (``alexnet-owt-7be5be79.pth``, ...),
  looked up locally (see :mod:`vsrbench.core.weights`; nothing is downloaded implicitly,
  ``vsrbench weights download lpips-alex`` fetches it) and checked against the sha256 prefix in
  its published name, whatever the local file is called. :func:`lpips_weights_record` says which
  files (path, sha256, verified) a score used; results record it.

:meth:`LPIPS.features` returns the unit-normalised activations of one batch of images, and
:meth:`LPIPS.distance` compares two such feature lists. Computing each frame's features once
and comparing them pairwise is how one frame's LPIPS and both tLP terms cost two backbone
passes instead of six.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vsrbench.core.errors import WeightsError
from vsrbench.core.weights import check_published, find_weights, load_problem, sha256_cached

__all__ = [
    "BACKBONE_FILES", "BACKBONE_SOURCE", "LIN_SOURCE", "lin_weights_path", "backbone_weights_path",
    "backbone_record", "lpips_weights_record", "require_lpips_weights", "backbone_missing", "lpips_available",
    "LPIPS", "get_lpips", "to_lpips_input", "lpips",
]

BACKBONE_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}
BACKBONE_SOURCE = "https://download.pytorch.org/models/{}"
LIN_SOURCE = "the `lpips` Python package (pip install lpips), file lpips/weights/v{version}/{net}.pth"

_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


class _Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, e1: int, e3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x))], 1)


def _backbone(net: str) -> tuple[nn.Sequential, tuple[int, ...], tuple[int, ...]]:
    """(features, indices after which a tap is taken, tap channels); layer indices follow
    torchvision's ``features`` so its state-dict keys load unchanged."""
    relu = lambda: nn.ReLU(inplace=False)  # noqa: E731
    if net == "alex":
        layers = [nn.Conv2d(3, 64, 11, 4, 2), relu(), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2), relu(),
                  nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), relu(), nn.Conv2d(384, 256, 3, padding=1),
                  relu(), nn.Conv2d(256, 256, 3, padding=1), relu()]
        return nn.Sequential(*layers), (1, 4, 7, 9, 11), (64, 192, 384, 256, 256)
    if net == "vgg":
        cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
        layers, cin = [], 3
        for c in cfg:
            if c == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, c, 3, padding=1), relu()]
                cin = c
        return nn.Sequential(*layers), (3, 8, 15, 22, 29), (64, 128, 256, 512, 512)
    if net == "squeeze":
        layers = [nn.Conv2d(3, 64, 3, 2), relu(), nn.MaxPool2d(3, 2, ceil_mode=True), _Fire(64, 16, 64, 64),
                  _Fire(128, 16, 64, 64), nn.MaxPool2d(3, 2, ceil_mode=True), _Fire(128, 32, 128, 128),
                  _Fire(256, 32, 128, 128), nn.MaxPool2d(3, 2, ceil_mode=True), _Fire(256, 48, 192, 192),
                  _Fire(384, 48, 192, 192), _Fire(384, 64, 256, 256), _Fire(512, 64, 256, 256)]
        return nn.Sequential(*layers), (1, 4, 6, 7, 9, 10, 12), (64, 128, 256, 384, 384, 512, 512)
    raise WeightsError(f"unknown LPIPS backbone {net!r} (alex, vgg, squeeze)")


def lin_weights_path(net: str = "alex", version: str = "0.1") -> Path:
    """The learned linear layers shipped with the ``lpips`` package (located, not imported)."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"LPIPS linear layers not found: {LIN_SOURCE.format(version=version, net=net)} is not installed")
    p = Path(list(spec.submodule_search_locations)[0]) / "weights" / f"v{version}" / f"{net}.pth"
    if not p.is_file():
        raise WeightsError(f"LPIPS linear layers {str(p)!r} missing from the installed lpips package")
    return p


def backbone_weights_path(net: str = "alex", path=None) -> Path:
    """The torchvision ImageNet backbone file, looked up locally (explicit path, VSRBENCH_HOME, TORCH_HOME)
    and verified (:func:`backbone_record`)."""
    return Path(backbone_record(net, path)["path"])


def backbone_record(net: str = "alex", path=None) -> dict:
    """``{"path", "sha256", "verified", "published_file"}`` of the backbone file used for ``net``.

    Its content must be torchvision's published file: the first 8 hex digits of its sha256 are in
    the published name (``alexnet-owt-7be5be79.pth``), also when ``path`` names a file called
    otherwise. Otherwise :class:`WeightsError`, unless the file is deliberately accepted
    (``VSRBENCH_UNVERIFIED_WEIGHTS=1`` or :func:`vsrbench.core.weights.accept_unverified`), which
    is then recorded as ``"verified": false``. The hash is computed once per process and file.
    """
    fname = BACKBONE_FILES[net]
    found = find_weights(fname, path=path, source=BACKBONE_SOURCE.format(fname)
                         + " (torchvision's ImageNet weights; copy it into $TORCH_HOME/hub/checkpoints)")
    record = check_published(found, fname, what="torchvision's published file",
                             get=f"get it with `vsrbench weights download lpips-{net}` "
                                 f"(from {BACKBONE_SOURCE.format(fname)})")
    return {**record, "published_file": fname}


def lpips_weights_record(net: str = "alex", version: str = "0.1", lpips_weights=None) -> dict:
    """The files an LPIPS (or tLP) score uses, as recorded in results:
    ``{"lpips:backbone": backbone_record(...), "lpips:linear": {"path", "sha256"}}``."""
    lin = lin_weights_path(net, version)
    return {"lpips:backbone": backbone_record(net, lpips_weights),
            "lpips:linear": {"path": str(lin), "sha256": sha256_cached(lin)}}


def require_lpips_weights(net: str = "alex", version: str = "0.1", path=None) -> None:
    """Raise the one-line :class:`WeightsError` when the backbone file or the linear layers are missing."""
    backbone_weights_path(net, path)
    lin_weights_path(net, version)


def backbone_missing(net: str = "alex", path=None) -> bool:
    """True when the backbone file is nowhere to be found: the one case where a caller that was not
    asked for LPIPS/tLP may skip them with a note. A file that is found but unusable (not the
    published file, unreadable) is an error to report, not a reason to skip."""
    try:
        find_weights(BACKBONE_FILES[net], path=path)
    except WeightsError:
        return True
    return False


def lpips_available(net: str = "alex", path=None) -> bool:
    """True when both the backbone file and the linear layers are found locally, and the backbone is
    torchvision's published file (or deliberately accepted, see :func:`backbone_record`)."""
    try:
        require_lpips_weights(net, path=path)
    except WeightsError:
        return False
    return True


class LPIPS(nn.Module):
    """LPIPS v0.1 ("net-lin"): inputs are (N, 3, H, W) float RGB in [-1, 1]."""

    def __init__(self, net: str = "alex", version: str = "0.1", backbone_weights=None, lin_weights=None):
        super().__init__()
        self.net, self.version = net, version
        self.features_net, self.taps, chans = _backbone(net)
        self.lins = nn.ModuleList([nn.Conv2d(c, 1, 1, bias=False) for c in chans])
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self._load(backbone_weights, lin_weights)
        self.eval().requires_grad_(False)

    def _load(self, backbone_weights, lin_weights) -> None:
        bpath = backbone_weights_path(self.net, backbone_weights)
        sd = _torch_load(bpath)
        feats = {k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")}
        missing = [k for k in self.features_net.state_dict() if k not in feats]
        if missing:
            raise WeightsError(f"{str(bpath)!r} is not a torchvision {self.net} checkpoint: missing features.{missing[0]}")
        self.features_net.load_state_dict({k: feats[k] for k in self.features_net.state_dict()})
        lpath = Path(lin_weights) if lin_weights else lin_weights_path(self.net, self.version)
        lsd = _torch_load(lpath)
        for i, lin in enumerate(self.lins):
            key = f"lin{i}.model.1.weight"
            if key not in lsd or tuple(lsd[key].shape) != tuple(lin.weight.shape):
                raise WeightsError(f"{str(lpath)!r} lacks {key} of shape {tuple(lin.weight.shape)}")
            lin.weight.data.copy_(lsd[key])

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised (over channels) activations at each tap, for a batch in [-1, 1]."""
        # channels-last runs the convolutions ~20% faster on CPU, with identical values
        h = ((x - self.shift) / self.scale).contiguous(memory_format=torch.channels_last)
        out, taps = [], set(self.taps)
        for i, layer in enumerate(self.features_net):
            # a convolution's output is used once: its ReLU runs in place (no copy of the largest maps)
            h = torch.relu_(h) if isinstance(layer, nn.ReLU) else layer(h)
            if i in taps:
                out.append(h / torch.sqrt(torch.sum(h * h, dim=1, keepdim=True)).add_(1e-10))
            if i >= self.taps[-1]:
                break
        return out

    @torch.no_grad()
    def distance(self, fa: list[torch.Tensor], fb: list[torch.Tensor]) -> torch.Tensor:
        """Per-image LPIPS between two feature lists of equal batch size -> (N,)."""
        total = None
        for lin, a, b in zip(self.lins, fa, fb):
            v = lin((a - b) ** 2).mean(dim=(2, 3), keepdim=True)
            total = v if total is None else total + v
        return total.view(-1)

    @torch.no_grad()
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(a), self.features(b))


def _torch_load(path: Path) -> dict:
    import warnings

    try:
        with warnings.catch_warnings():  # torch's notes on a pickle's protocol ("please file an issue"): not ours
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt / not a torch file
        raise WeightsError(f"cannot read weights file {str(path)!r}: {load_problem(path, e)}") from None


@functools.lru_cache(maxsize=8)
def _cached(net: str, version: str, backbone: str | None, device: str) -> LPIPS:
    return LPIPS(net, version, backbone_weights=backbone).to(device).to(memory_format=torch.channels_last)


def get_lpips(net: str = "alex", version: str = "0.1", lpips_weights=None, device="cpu") -> LPIPS:
    """A cached LPIPS model on ``device``; ``lpips_weights`` is the backbone file (or a folder holding
    it), looked up locally when None (weights resolved once per path)."""
    resolved = str(backbone_weights_path(net, lpips_weights))
    return _cached(net, version, resolved, str(torch.device(device)))


def to_lpips_input(t255: torch.Tensor) -> torch.Tensor:
    """0..255 float64 RGB -> float32 in [-1, 1] (``x / 127.5 - 1``, as TecoGAN's ``im2tensor``)."""
    return (t255 / 127.5 - 1.0).to(torch.float32)


def lpips(pred, gt, *, protocol="tecogan", value_range: float = 1.0, lpips_weights=None,
          **overrides) -> "float | np.ndarray":
    """LPIPS distance per frame under a protocol (crop, net and version come from it).

    Parameters
    ----------
    pred, gt : numpy.ndarray or torch.Tensor
        The output and the ground truth: one frame ``(H, W, 3)`` / ``(3, H, W)`` or a batch
        ``(N, H, W, 3)`` / ``(N, 3, H, W)``, RGB, ``uint8`` or float in ``[0, value_range]``.
    protocol : str or Protocol
        A preset name (``"tecogan"``, ``"basicsr-y"``, ...) or a :class:`~vsrbench.metrics.protocol.Protocol`.
    value_range : float
        The white level of float frames (default 1).
    lpips_weights : str or os.PathLike, optional
        The ImageNet backbone file (or a folder holding it), the same keyword as
        :func:`~vsrbench.metrics.tlp`, the evaluators and ``--lpips-weights``; looked up locally when None.
    **overrides
        Protocol fields to override by name, e.g. ``crop_border=8``.

    Returns
    -------
    float or numpy.ndarray
        A float for one frame, an ``(N,)`` array for a batch (lower is better).

    Raises
    ------
    vsrbench.core.errors.WeightsError
        The backbone file or the linear layers are missing, unreadable or not the published files.
    vsrbench.core.errors.InputError
        Frames of another shape, type or range, or sizes the protocol's size rule refuses.
    vsrbench.core.errors.UnknownNameError
        An unknown protocol name or protocol field.

    Examples
    --------
    Needs the backbone file (``vsrbench weights download lpips-alex``)::

        from vsrbench.metrics import lpips
        lpips(out, gt)  # one (H, W, 3) uint8 frame each: a float
        lpips(out_batch, gt_batch, lpips_weights="weights/alexnet-owt-7be5be79.pth")  # (N, H, W, 3): N values
    """
    from vsrbench.metrics.protocol import get_protocol
    from vsrbench.metrics.spatial import _prepare_cpu, _unbatch, prepare

    proto = get_protocol(protocol, **overrides)
    cpu = _prepare_cpu(pred, gt, proto, value_range)
    if cpu is not None:  # from the 8-bit frames to the network's float32 input (no float64 batch), frame by
        # frame: a batch's activation maps would outgrow the caches (a batch of 10 ran ~25% slower per frame)
        model = get_lpips(proto.lpips_net, proto.lpips_version, lpips_weights, "cpu")
        return _unbatch(torch.cat([model(_lpips_input_u8([p]), _lpips_input_u8([g])) for p, g in zip(*cpu)]), pred)
    p, g = prepare(pred, gt, proto, value_range)
    model = get_lpips(proto.lpips_net, proto.lpips_version, lpips_weights, p.device)
    return _unbatch(model(to_lpips_input(p), to_lpips_input(g)), pred)


# to_lpips_input's value for each 8-bit level (the same float64 arithmetic, then float32)
_LPIPS_LEVELS = (np.arange(256.0) / 127.5 - 1.0).astype(np.float32)


def _lpips_input_u8(frames: list) -> torch.Tensor:
    """(h, w, 3) uint8 frames -> the (N, 3, h, w) float32 input of :func:`to_lpips_input`, laid out
    channels-last (as the network runs)."""
    h, w = frames[0].shape[:2]
    x = np.empty((len(frames), h, w, 3), np.float32)
    for i, f in enumerate(frames):
        np.take(_LPIPS_LEVELS, f, out=x[i])
    return torch.from_numpy(x).permute(0, 3, 1, 2)
