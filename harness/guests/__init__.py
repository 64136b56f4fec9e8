"""Guest kernels for the cross-kernel runs: Debian's archive (``debian``), fetching and
unpacking a kernel into the project's cache (``kernels``, the ``kernel`` type), a small
initramfs where virtio is modular (``initramfs``), the stage-2 init (``stage2``), the QEMU
boot (``vm``) and the command line that runs a command in each kernel (``kernel_runs``,
``python -m harness.guests``).
It may import ``model`` and ``record`` only; never the comparison: the runs write reports,
``harness.reporting`` reads them.
"""
