source tools/gdb/ntlab.py
