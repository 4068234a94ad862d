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
# third session: issue 12's best switch at 4x budget on this CPU (same device as the 1x crbnd and
# ocsvm rows), ALOCC 1 vs 40 epochs on a third digit, the per-channel dropout switch on Caltech
# (n = 1, the same draws as the default run), pyod's dense AutoEncoder (issue 12's cheap baseline)
run -m crbnd -p crbnd.ae_epochs=24 -p crbnd.clf_epochs=12 -p crbnd.neg_target=input --classes 1,2,3 --seeds 0,1,2 --out results/ref-mnist-crbnd-4x-input-cpu
run -m alocc -p alocc.epochs=1,40 --classes 3 --out results/ref-mnist-alocc40-cpu
run -m crbnd -p crbnd.dropout_per_channel=True --protocol caltech --dataset caltech101 --repeats 5 --n-classes 1 --out results/ref-caltech-crbnd-perchannel
run -m pyod:AutoEncoder -p pyod:AutoEncoder.verbose=0 --seeds 0,1,2 --out results/ref-mnist-pyod-ae
# low-level cues (ink, edges) against every method's per-digit AUROC, and inside trained g2d models
PYTHONPATH=. python benchmarks/low_level_cues.py --data-root "$DATA" --save results/reference/runs --fit g2d --digits 0 1 8
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
