#!/usr/bin/env bash
# Proof that the pipeline learns (issue 7): longer-budget runs on the synthetic demo task and on real
# MSD Hippocampus data, in a scratch folder outside the repo. Results and figures: docs/results.md.
# Usage: scripts/learning-check.sh [scratch-dir]   (default /tmp/learn; runs one training at a time)
# Env overrides: EPOCHS_2D ITERS_2D EPOCHS_3D ITERS_3D EPOCHS_HIPPO ITERS_HIPPO EPOCHS_HIPPO_3D ITERS_HIPPO_3D, HIPPO_SRC.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/learn}"
hippo_src="${HIPPO_SRC:-$repo/../shared/realdata/Task04_Hippocampus}"
export nnUNet_raw_data_base="$work/raw" nnUNet_preprocessed="$work/preprocessed" RESULTS_FOLDER="$work/results"
mkdir -p "$work"
nnunet() { node "$repo/dist/client/cli.js" "$@"; }

timed() { # timed NAME CMD... : runs CMD, records wall seconds in $work/NAME.seconds
  local name="$1"; shift
  local start; start=$(date +%s)
  "$@" 2>&1 | tee "$work/$name.log"
  echo $(( $(date +%s) - start )) > "$work/$name.seconds"
}

summary() { # summary CONFIG TASKFOLDER : per-class Dice of fold 0's validation
  local f="$RESULTS_FOLDER/nnUNet/$1/$2/nnUNetTrainerV2__nnUNetPlansv2.1/fold_0/validation_raw/summary.json"
  node -e 'const s=require(process.argv[1]).results.mean; const fg=Object.keys(s).filter(k=>k!=="0");
    const d=fg.map(k=>s[k].Dice); console.log(process.argv[2], fg.map((k,i)=>`class ${k}: ${d[i].toFixed(4)}`).join(", "),
    `mean fg: ${(d.reduce((a,b)=>a+b,0)/d.length).toFixed(4)}`)' "$f" "$1 $2"
}

nnunet demo-dataset -t 901
timed demo2d nnunet run -t 901 -c 2d -f 0 --epochs "${EPOCHS_2D:-30}" --iters "${ITERS_2D:-25}" --no-find-best
summary 2d Task901_Demo

if [ -d "$hippo_src" ]; then
  nnunet convert-msd -i "$hippo_src" -t 4
  timed hippo2d nnunet run -t 4 -c 2d -f 0 --epochs "${EPOCHS_HIPPO:-40}" --iters "${ITERS_HIPPO:-25}" --no-find-best
  summary 2d Task004_Hippocampus
  timed hippo3d nnunet run -t 4 -c 3d_fullres -f 0 --epochs "${EPOCHS_HIPPO_3D:-14}" --iters "${ITERS_HIPPO_3D:-25}" --no-find-best
  summary 3d_fullres Task004_Hippocampus
else
  echo "skip Hippocampus: $hippo_src not found"
fi

# --rerun: before bf05723 a completed nnunet-task-901 (2d) was re-reported instead of training 3d_fullres
timed demo3d nnunet run -t 901 -c 3d_fullres -f 0 --epochs "${EPOCHS_3D:-10}" --iters "${ITERS_3D:-25}" --no-find-best --rerun
summary 3d_fullres Task901_Demo
