# Sourced by the PyTorch peer scripts: the environment from docs/peers.md —
# OpenBLAS (OpenMP build) without the preset OPENBLAS_CORETYPE=Haswell, tcmalloc preloaded, 2 threads.
# PEER_ALLOCATOR=glibc-thp instead runs glibc as our workers run it (freed memory kept,
# transparent huge pages asked for: src/jobs/fork.ts), to see what huge pages give the peer.
export OPENBLAS_CORETYPE=
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [ "${PEER_ALLOCATOR:-tcmalloc}" = glibc-thp ]; then
  unset LD_PRELOAD
  export MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 GLIBC_TUNABLES=glibc.malloc.hugetlb=1
else
  export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
