# Sourced by the PyTorch peer scripts: the environment from docs/peers.md —
# OpenBLAS (OpenMP build) without the preset OPENBLAS_CORETYPE=Haswell, tcmalloc preloaded, 2 threads.
export OPENBLAS_CORETYPE=
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
