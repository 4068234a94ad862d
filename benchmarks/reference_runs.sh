#!/usr/bin/env bash
# The exact runs behind results/reference/*.md. Usage: bash benchmarks/reference_runs.sh [DATA_ROOT]
# Each run resumes if interrupted; outputs go to results/ref-*/ (tables are copied into
# results/reference/runs/ by the last step). 2 local processes with 1 thread each.
set -euo pipefail
DATA=${1:-../shared/data}
run() { bench run --data-root "$DATA" --jobs 2 --device auto "$@"; }

run --method ae --protocol mnist --seeds 0 --out results/ref-mnist-ae
run --method crbnd --protocol mnist --seeds 0,1,2 --out results/ref-mnist-crbnd
run --method crbnd-plus --protocol mnist --seeds 0,1,2 --out results/ref-mnist-crbnd-plus
for m in ae crbnd crbnd-plus; do
  run --method $m --protocol caltech --dataset caltech101 --repeats 5 --out results/ref-caltech-$m
done
run --method crbnd --protocol mnist --seeds 0 --param crbnd.negatives=blur,noise --out results/ref-ablation-negatives
run --method crbnd --protocol mnist --seeds 0 --param crbnd.connective=False --out results/ref-ablation-nomix
run --method crbnd --protocol mnist --seeds 0 --param crbnd.score_mode=recon --out results/ref-ablation-recon
run --method crbnd-plus --protocol mnist --seeds 0 --param crbnd-plus.score_mode=classifier --out results/ref-ablation-plus-clf
run --method crbnd-plus --protocol mnist --seeds 0 --param crbnd-plus.negatives=both --out results/ref-ablation-plus-paperneg
mkdir -p results/reference/runs
for d in results/ref-*; do cp "$d/results.csv" "results/reference/runs/${d#results/ref-}.csv"; done
