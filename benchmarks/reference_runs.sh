#!/usr/bin/env bash
# The CPU runs behind results/reference/ (second pass). Usage: bash benchmarks/reference_runs.sh [DATA_ROOT]
# Each run resumes if interrupted; outputs go to results/ref-*/. 2 local processes with 1 CPU
# thread each (a 2-core machine). The GPU runs are benchmarks/device_reference.sh, merged into
# results/ref-* folders with benchmarks/collect_runs.py (commands in results/reference/*.md).
# The first pass's tables (older code) are kept in results/reference/runs/firstpass/.
set -euo pipefail
DATA=${1:-${NOVELBENCH_DATA_ROOT:-../shared/data}}
run() { python -m novelbench run --data-root "$DATA" --jobs 2 --threads 1 --device cpu "$@"; }

run --method ocsvm --protocol mnist --seeds 0,1,2 --out results/ref-mnist-ocsvm
run --method ae --protocol mnist --seeds 0,1,2 --out results/ref-mnist-ae
run --method crbnd --protocol mnist --seeds 0,1,2 --keep-models --out results/ref-mnist-crbnd
run --method ocsvm --protocol caltech --dataset caltech101 --repeats 8 --out results/ref-caltech-ocsvm
run --method ocsvm --protocol caltech --dataset caltech101 --repeats 8 --transductive --out results/ref-caltech-transductive-ocsvm
for m in alocc crbnd g2d crbnd-plus ae; do
  run --method $m --protocol caltech --dataset caltech101 --repeats 5 --out results/ref-caltech-$m
  run --method $m --protocol caltech --dataset caltech101 --repeats 5 --transductive --out results/ref-caltech-transductive-$m
done
# one full-MNIST trial of each deep method on one thread (digit 0), for the speed columns
run --method alocc --method g2d --method deep-svdd --method geom --method crbnd-plus --method crbnd \
  --protocol mnist --classes 0 --out results/speed-mnist-cpu1
python benchmarks/gan_speed.py --data-root "$DATA" --digit 0 --threads 1
# the report of the MNIST runs (HTML, self-contained; markdown with its figures)
python -m novelbench report results/ref-mnist-ocsvm results/ref-mnist-ae results/ref-mnist-crbnd \
  results/ref-mnist-crbnd-plus-cuda results/ref-mnist-alocc results/ref-mnist-g2d results/ref-mnist-deep-svdd \
  results/ref-mnist-geom results/ref-mnist-pyod --out results/reference/report-mnist.html --out results/reference/report-mnist.md
# Figure 4 of digit 8 from the models the crbnd run kept (--keep-models: no retraining)
python -m novelbench samples --method crbnd --protocol mnist --classes 8 --seed 0 --data-root "$DATA" --device cpu \
  --models results/ref-mnist-crbnd --out results/reference/samples-crbnd-8
