"""Floors below which the kernels flush recursive values to exact zero.

A decaying recursion in floating point need not reach zero: its last bits can go round
as subnormals forever (±1e-44 in a float32 feedback line, ±1e-321 in a biquad's
memory), each costing many normal operations on x86, and silence in never again gives
digital silence out. So the kernels flush recursive values below a floor to 0.
"""

from __future__ import annotations

#: Recursions through float32 lines (delay, reverb) flush what they store or feed back
#: below this, every sample: about -300 dBFS, 150 dB under the last bit of 24-bit audio,
#: and too small to change a float32 sample above -150 dBFS that it is added to. It sits
#: far above float32's subnormals (below 1.2e-38), so no line ever holds one.
LINE_FLOOR = 1e-15
#: Float64 state that only decays (biquad memories, the compressor's envelope and mean
#: square) is set to 0 below this once a block, or a compressor group: so far under
#: float32's smallest subnormal (1.4e-45) that no output sample can tell, which keeps
#: results independent of the block size, and so far above float64's subnormals (below
#: 2.2e-308) that a slow decay cannot reach them within a block (a fast one that does is
#: caught at the block's end).
STATE_FLOOR = 1e-100

#: A biquad writes an output sample below this as exact 0: its float64 memory may decay
#: through 1e-38..1e-100 (above `STATE_FLOOR`), where each output would be a float32
#: subnormal (found by the effect conformance grid). The memory itself is left alone, so
#: results stay independent of the block size; 1e-30 is -600 dBFS.
OUTPUT_FLOOR = 1e-30
