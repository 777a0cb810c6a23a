#!/usr/bin/env bash
# Measures every linux-x86_64 build of ND4J 1.0.0-M2.1 (plain, avx2, avx512, onednn, onednn-avx2,
# onednn-avx512) with org.leukolab.bench.BackendBenchmark, one JVM per variant, and prints a Markdown
# table (paste it into docs/native-variant.md). Downloads the variant jars it lacks (~90 MB each).
#   tools/bench-native-variants.sh [imageSize=64] [batch=32] [steps=10]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
size=${1:-64}; batch=${2:-32}; steps=${3:-10}
variants=(linux-x86_64 linux-x86_64-avx2 linux-x86_64-avx512 linux-x86_64-onednn linux-x86_64-onednn-avx2 linux-x86_64-onednn-avx512)
repo=$(mvn -q -B help:evaluate -Dexpression=settings.localRepository -DforceStdout 2>/dev/null | tr -d '\033' | sed 's/\[[0-9;]*m//g')
jar_dir="$repo/org/nd4j/nd4j-native/1.0.0-M2.1"
[ -f lib/target/classpath.txt ] || { echo "run ./leukolab setup first" >&2; exit 1; }
base=$(tr ':' '\n' < lib/target/classpath.txt | grep -v 'nd4j-native-1.0.0-M2.1-linux' | paste -sd:)
mapfile -t opts < <(environment/kernel/jvm-options java)

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
echo "Measured $(date -u +%Y-%m-%d) on ${cpu}, $(nproc) cores; $(java -version 2>&1 | head -1);"
echo "report 002's CNN at ${size}x${size}, batch ${batch}, median of ${steps} steps after 2 warm-up steps."
echo "Command: tools/bench-native-variants.sh ${size} ${batch} ${steps} (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo "| variant | GEMM 1024 GFLOP/s | train NCHW img/s | infer NCHW img/s | train NHWC img/s | infer NHWC img/s |"
echo "|---|---:|---:|---:|---:|---:|"
for v in "${variants[@]}"; do
  jar="$jar_dir/nd4j-native-1.0.0-M2.1-$v.jar"
  [ -f "$jar" ] || mvn -q -B dependency:get -Dartifact="org.nd4j:nd4j-native:1.0.0-M2.1:jar:$v" -Dtransitive=false >/dev/null
  out=$(java "${opts[@]}" -cp "bench/target/classes:lib/target/classes:$base:$jar" org.leukolab.bench.BackendBenchmark "$size" "$batch" "$steps" 2>/dev/null)
  gemm=$(sed -n 's/^gemm.*: \([0-9.]*\) GFLOP.*/\1/p' <<<"$out")
  nchw=$(grep ' NCHW ' <<<"$out" | sed -n 's/.*train \([0-9.]*\) img\/s, inference \([0-9.]*\) img\/s/\1 | \2/p')
  nhwc=$(grep ' NHWC ' <<<"$out" | sed -n 's/.*train \([0-9.]*\) img\/s, inference \([0-9.]*\) img\/s/\1 | \2/p')
  echo "| $v | $gemm | $nchw | $nhwc |"
done
