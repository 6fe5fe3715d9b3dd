"""Measurements on rendered audio: THD+N, magnitude response, clicks."""

from __future__ import annotations

import numpy as np
from scipy import signal

#: A click is any sample of the high-passed signal above this level (−60 dBFS): a step
#: of 1/1000 of full scale, far below what a listener hears as a click on music, far above
#: what a smooth 10 ms fade leaves above 5 kHz.
CLICK_THRESHOLD = 1e-3
CLICK_CUTOFF = 5000.0


def thd_n(x: np.ndarray, freq: float, rate: int) -> float:
    """Return THD+N as a ratio: everything but ``freq`` over everything, RMS.

    ``x`` must hold a whole number of periods (then the fundamental falls in one FFT bin
    and a rectangular window leaks nothing). DC is excluded.
    """
    n = x.shape[0]
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    k = int(round(freq * n / rate))
    assert abs(k * rate / n - freq) < 1e-9, "the window must hold whole periods"
    total = spectrum[1:].sum()
    residual = total - spectrum[k]
    return float(np.sqrt(residual / total))


def response_db(inp: np.ndarray, out: np.ndarray, rate: int, freqs: np.ndarray) -> np.ndarray:
    """Return the magnitude response out/in in dB at ``freqs``, from Welch spectra."""
    f, pxy = signal.csd(inp, out, fs=rate, nperseg=8192)
    _, pxx = signal.welch(inp, fs=rate, nperseg=8192)
    h = np.abs(pxy) / pxx
    return 20 * np.log10(np.interp(freqs, f, h))


def clicks(x: np.ndarray, rate: int) -> float:
    """Return the peak of ``x`` high-passed at 5 kHz (4th-order Butterworth, zero phase).

    A sine below the cutoff, even one whose level glides, leaves almost nothing there; a
    step or a jump leaves a spike. Compare with `CLICK_THRESHOLD`.
    """
    sos = signal.butter(4, CLICK_CUTOFF, btype="highpass", fs=rate, output="sos")
    hp = signal.sosfiltfilt(sos, x.astype(np.float64), axis=0)
    edge = int(0.01 * rate)  # the filter's own start-up transient
    return float(np.abs(hp[edge:-edge]).max())
