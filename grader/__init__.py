"""ntlab grader: builds the kernel, boots checkpoints in QEMU and judges the serial output."""
