#!/usr/bin/env bash
# The exact runs behind results/reference/crbnd.md. Usage: bash benchmarks/reference_runs.sh [DATA_ROOT]
# Each run resumes if interrupted; outputs go to results/ref-*/, and the last step copies their
# tables into results/reference/runs/. 2 local processes with 1 CPU thread each (2-core machine).
# Sized to the CPU time we had: Caltech deep methods over 3 repeats, ablations over seed 0.
set -euo pipefail
DATA=${1:-../shared/data}
run() { bench run --data-root "$DATA" --jobs 2 --device auto "$@"; }

run --method ocsvm --protocol mnist --seeds 0 --out results/ref-mnist-ocsvm
run --method ae --protocol mnist --seeds 0 --out results/ref-mnist-ae
run --method crbnd --protocol mnist --seeds 0,1,2 --keep-models --out results/ref-mnist-crbnd
run --method crbnd-plus --protocol mnist --seeds 0,1,2 --keep-models --out results/ref-mnist-crbnd-plus
run --method ocsvm --protocol caltech --dataset caltech101 --repeats 20 --out results/ref-caltech-ocsvm
run --method ae --protocol caltech --dataset caltech101 --repeats 5 --out results/ref-caltech-ae
run --method crbnd --protocol caltech --dataset caltech101 --repeats 3 --out results/ref-caltech-crbnd
run --method crbnd-plus --protocol caltech --dataset caltech101 --repeats 3 --out results/ref-caltech-crbnd-plus
run --method crbnd --protocol mnist --seeds 0 --param crbnd.negatives=blur,noise --out results/ref-ablation-negatives
run --method crbnd --protocol mnist --seeds 0 --param crbnd.connective=False --out results/ref-ablation-nomix
run --method crbnd --protocol mnist --seeds 0 --param crbnd.score_mode=recon --out results/ref-ablation-recon
mkdir -p results/reference/runs
for d in results/ref-*; do cp "$d/results.csv" "results/reference/runs/${d#results/ref-}.csv"; done
# the report of the MNIST runs (HTML, self-contained; markdown with its figures) and Figure 4 of
# digit 8 from the models the runs kept (--keep-models: no retraining)
bench report results/ref-mnist-ocsvm results/ref-mnist-ae results/ref-mnist-crbnd results/ref-mnist-crbnd-plus \
  --out results/reference/report-mnist.html --out results/reference/report-mnist.md
for m in crbnd crbnd-plus; do
  bench samples --method "$m" --protocol mnist --classes 8 --seed 0 --data-root "$DATA" --device auto \
    --models "results/ref-mnist-$m" --out "results/reference/samples-$m-8"
done
