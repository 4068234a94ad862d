#!/usr/bin/env bash
# Reference runs for a lent GPU machine (one GPU, ~16 cores): many small `bench run` processes
# side by side, each stopped after BUDGET seconds. Finished trials are files, so whatever ends
# inside the budget is kept, and a later `bench run` with the same options resumes the rest.
#
#   DATA_ROOT=/path/to/data OUT_ROOT=/path/to/out BUDGET=470 bash benchmarks/device_reference.sh
#
# GPU processes use --device cuda (bf16 autocast for training, fp32 scores: their own trial ids);
# the pyod runs use the CPU. Every process runs one trial at a time with one CPU thread.
set -u
: "${DATA_ROOT:?set DATA_ROOT}" "${OUT_ROOT:?set OUT_ROOT}"
BUDGET=${BUDGET:-470}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
mkdir -p "$OUT_ROOT/logs"

run() {  # run NAME ARGS...: one bench run in the background, output in OUT_ROOT/NAME
  local name=$1; shift
  timeout "$BUDGET" "$PY" -m novelbench run --data-root "$DATA_ROOT" --threads 1 --json \
    --out "$OUT_ROOT/$name" "$@" >"$OUT_ROOT/logs/$name.log" 2>&1 &
}
gpu() { local name=$1; shift; run "$name" --device "$DEVICE" "$@"; }

# issue 8: ALOCC (both scores) and G2D, mnist protocol, 10 digits x 3 seeds, defaults
for s in 0 1 2; do
  gpu mnist-alocc-s$s -m alocc -p alocc.score_mode=dr,d --seeds $s
  gpu mnist-g2d-s$s -m g2d --seeds $s
done
# ALOCC with the authors' 40 epochs: in its own no-split setup (fidelity), and on the split
gpu mnistT-alocc40-dr -m alocc -p alocc.epochs=40 -p alocc.score_mode=dr --protocol mnist-transductive
gpu mnistT-alocc40-d -m alocc -p alocc.epochs=40 -p alocc.score_mode=d --protocol mnist-transductive
gpu mnist-alocc40 -m alocc -p alocc.epochs=40 -p alocc.score_mode=dr,d --classes 1,2,3

# issue 9: Deep SVDD (default + paper schedule), GEOM (default + a larger network), pyod
gpu mnist-deep-svdd -m deep-svdd --seeds 0,1,2
gpu mnist-deep-svdd-paper-a -m deep-svdd-paper --classes 0,1,2,3,4
gpu mnist-deep-svdd-paper-b -m deep-svdd-paper --classes 5,6,7,8,9
for s in 0 1 2; do gpu mnist-geom-s$s -m geom --seeds $s; done
GEOM_LARGE=(-p "geom.widths=(32,64,128)" -p geom.blocks=1 -p geom.epochs=3)
gpu mnist-geom-large-a -m geom "${GEOM_LARGE[@]}" --classes 0,1,2,3,4
gpu mnist-geom-large-b -m geom "${GEOM_LARGE[@]}" --classes 5,6,7,8,9
run mnist-pyod-knn-iforest --device cpu -m pyod:KNN -m pyod:IForest --seeds 0,1,2
run mnist-pyod-ecod --device cpu -m pyod:ECOD --seeds 0,1,2

# issue 12: crbnd-plus; each reading of the paper as a switch (seed 0); 4x training budget
gpu mnist-crbnd-plus -m crbnd-plus --seeds 0,1,2
gpu mnist-crbnd-negtarget -m crbnd -p crbnd.neg_target=recon,input,either
gpu mnist-crbnd-posrecon -m crbnd -p crbnd.positive_recon=corrupted
gpu mnist-crbnd-convbottleneck -m crbnd -p crbnd.latent_dim=None
BUDGET4=(-p crbnd.ae_epochs=24 -p crbnd.clf_epochs=12 --classes 1,2,3 --seeds 0,1,2)
gpu mnist-crbnd-4x -m crbnd "${BUDGET4[@]}"
gpu mnist-crbnd-4x-conv -m crbnd "${BUDGET4[@]}" -p crbnd.latent_dim=None

wait
echo "device reference runs ended (budget ${BUDGET}s each)"
