"""Colour-blind-safe figures: palettes stay apart under simulated colour blindness, and phase
grids carry a hatch per phase so that they read without colour at all."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.patches import Rectangle

from grokpaper.carvalho import plots as carvalho_plots
from grokpaper.core import phases, plots

# Machado, Oliveira & Fernandes 2009, severity 1.0, on linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
# CIE76 distance; a just-noticeable difference is ~2.3, categories want several times that.
MIN_DELTA_E = 15.0


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear sRGB."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _linear(color: str) -> np.ndarray:
    c = np.array(to_rgb(color))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def closest_pair(colors: list[str], matrix: list[list[float]]) -> float:
    """Smallest CIE76 distance between two of ``colors`` as seen through ``matrix``."""
    labs = [_lab(np.clip(np.array(matrix) @ _linear(c), 0, 1)) for c in colors]
    return min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(labs, 2))


def test_simulation_keeps_greys_and_merges_red_with_green():
    # A grey is seen as itself, and the classic red/green pair nearly merges for deuteranopes
    # (while plainly apart with normal vision): the check below can fail.
    for matrix in CVD.values():
        assert np.allclose(np.array(matrix) @ np.full(3, 0.5), 0.5, atol=1e-3)
    assert closest_pair(["tab:red", "tab:green"], np.eye(3).tolist()) > 3 * MIN_DELTA_E
    assert closest_pair(["tab:red", "tab:green"], CVD["deuteranopia"]) < MIN_DELTA_E


@pytest.mark.parametrize("name", CVD)
@pytest.mark.parametrize("palette", ["phases", "carvalho classes"])
def test_palettes_stay_apart_under_colour_blindness(palette, name):
    colors = {"phases": list(phases.COLORS.values()),
              "carvalho classes": list(carvalho_plots.CLASS_COLORS)}[palette]
    assert closest_pair(colors, CVD[name]) >= MIN_DELTA_E


def test_every_phase_and_class_has_its_own_pattern():
    assert set(phases.HATCHES) == set(phases.PHASES) == set(phases.COLORS)
    assert len(set(phases.HATCHES.values())) == len(phases.PHASES)
    assert len(set(carvalho_plots.CLASS_MARKERS)) == len(carvalho_plots.CLASS_COLORS)
    handles = plots.phase_handles()
    assert [h.get_label() for h in handles] == list(phases.PHASES)
    assert [h.get_hatch() or "" for h in handles] == [phases.HATCHES[p] for p in phases.PHASES]


def test_hatch_phases_patterns_each_cell_as_its_legend():
    codes = np.array([[0, 1], [2, np.nan], [3, 1]])
    fig, ax = plt.subplots()
    ax.imshow(codes)
    plots.hatch_phases(ax, codes)
    drawn = {(p.get_x() + 0.5, p.get_y() + 0.5): p.get_hatch() for p in ax.patches
             if isinstance(p, Rectangle)}
    expected = {(c, r): phases.HATCHES[phases.PHASES[int(v)]]
                for (r, c), v in np.ndenumerate(codes)
                if np.isfinite(v) and phases.HATCHES[phases.PHASES[int(v)]]}
    assert drawn == expected
    assert (1.0, 1.0) not in drawn  # the NaN cell stays bare
    plt.close(fig)
