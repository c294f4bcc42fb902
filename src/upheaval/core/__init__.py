"""The floor every other layer stands on: how kernels compile (:mod:`.jit`), the
random streams (:mod:`.rng`) and the codes the state is written in (:mod:`.codes`).
It imports nothing else of upheaval."""
