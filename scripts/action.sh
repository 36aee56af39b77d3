#!/usr/bin/env bash
# The step of the imgcheck GitHub Action (action.yml): install imgcheck (a
# release binary whose checksum matches SHA256SUMS, or a build of this
# checkout when IMGCHECK_VERSION=source), scan the images, write a Markdown
# job summary to $GITHUB_STEP_SUMMARY and the outputs to $GITHUB_OUTPUT, and
# exit with imgcheck's exit code.
#
# Inputs come as IMGCHECK_* variables (see action.yml); IMGCHECK_RELEASES
# points the download at another release site (the tests use file://).
set -euo pipefail

images=${IMGCHECK_IMAGES:?the images input is required}
profile=${IMGCHECK_PROFILE:-marketplace}
fail_on=${IMGCHECK_FAIL_ON:-fail}
format=${IMGCHECK_FORMAT:-text}
sarif=${IMGCHECK_SARIF-}
version=${IMGCHECK_VERSION:-latest}
src=${IMGCHECK_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}
releases=${IMGCHECK_RELEASES:-https://github.com/imgcheck/imgcheck/releases}
work=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/imgcheck-action
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
outputs=${GITHUB_OUTPUT:-/dev/null}
mkdir -p "$work"

# fatal stops before any scan: exit 2, as imgcheck's usage errors, so a
# broken setup is never taken for findings (1).
fatal() {
  echo "::error title=imgcheck::$*"
  exit 2
}

# platform sets os and arch of the runner, in Go's names.
platform() {
  case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  *) fatal "no imgcheck release for ${RUNNER_OS:-$(uname -s)} runners; use a Linux or macOS runner" ;;
  esac
  case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *) fatal "no imgcheck release for ${RUNNER_ARCH:-$(uname -m)} runners" ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

install_release() {
  platform
  local asset=imgcheck_${os}_${arch}.tar.gz base want got
  if [ "$version" = latest ]; then base=$releases/latest/download; else base=$releases/download/$version; fi
  curl -fsSL --retry 3 -o "$work/$asset" "$base/$asset" || fatal "cannot download $base/$asset"
  curl -fsSL --retry 3 -o "$work/SHA256SUMS" "$base/SHA256SUMS" || fatal "cannot download $base/SHA256SUMS"
  want=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS")
  [ -n "$want" ] || fatal "$asset is not listed in $base/SHA256SUMS"
  got=$(sha256 "$work/$asset")
  [ "$got" = "$want" ] || fatal "checksum mismatch for $asset: got $got, SHA256SUMS has $want"
  tar -xzf "$work/$asset" -C "$work" imgcheck || fatal "$asset holds no imgcheck binary"
}

build_source() {
  command -v go >/dev/null || fatal "version: source needs Go (actions/setup-go) on the runner"
  local rev
  rev=$(git -C "$src" rev-parse HEAD 2>/dev/null || true)
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-X main.revision=$rev" -o "$work/imgcheck" ./cmd/imgcheck) ||
    fatal "cannot build imgcheck from $src"
}

# md escapes text for a Markdown table cell: guest-controlled text must not
# become markup, links or HTML in the summary.
md() {
  printf '%s' "$1" | tr '\n\r' '  ' | sed -e 's/[][\\`*_{}<>()#+!|~-]/\\&/g'
}

# write_summary renders the JSON report as Markdown (jq is on every
# GitHub-hosted runner; without it the summary has the verdict only).
write_summary() {
  {
    echo "## imgcheck: $verdict"
    echo
    if [ -s "$json" ] && command -v jq >/dev/null; then
      echo "| Image | Profile | Verdict | FAIL | WARN | ERROR | PASS |"
      echo "|---|---|---|---|---|---|---|"
      jq -r '.images[] | [.path, .profile, .verdict, .counts.fail, .counts.warn, .counts.error, .counts.pass] | @tsv' "$json" |
        while IFS=$'\t' read -r path prof v f w e p; do
          echo "| $(md "$path") | $prof | **$v** | $f | $w | $e | $p |"
        done
      echo
      local shown=200
      echo "<details><summary>Findings at WARN and above (first $shown)</summary>"
      echo
      jq -r '.images[] | .path as $p | .findings[] | select(.level == "fail" or .level == "warn" or .level == "error")
        | [(.level | ascii_upcase), .rule, $p, .message] | @tsv' "$json" | head -n "$shown" |
        while IFS=$'\t' read -r level rule path msg; do
          echo "- **$level** $(md "$rule") ($(md "$(basename "$path")")): $(md "$msg")"
        done
      echo
      echo "</details>"
    else
      echo "imgcheck exited $code; no JSON report to summarize."
    fi
  } >>"$summary"
}

if [ "$version" = source ]; then build_source; else install_release; fi
bin=$work/imgcheck
"$bin" --version

json=$work/imgcheck.json
rm -f "$json"
args=(scan --profile "$profile" --fail-on "$fail_on" --format "$format" --format "json=$json")
if [ -n "$sarif" ]; then args+=(--format "sarif=$sarif"); fi
read -r -d '' -a targets < <(printf '%s\0' "$images" | tr '\n' ' ') || true
[ ${#targets[@]} -gt 0 ] || fatal "the images input names no image"

set +e
"$bin" "${args[@]}" "${targets[@]}"
code=$?
set -e

# The overall verdict is the worst image's, as imgcheck orders them.
verdict=error
if [ -s "$json" ]; then
  for v in fail error warn pass; do
    if grep -q "^      \"verdict\": \"$v\"" "$json"; then
      verdict=$v
      break
    fi
  done
fi
write_summary
{
  echo "verdict=$verdict"
  echo "exit-code=$code"
  echo "json=$json"
  echo "sarif=$([ -n "$sarif" ] && [ -s "$sarif" ] && echo "$sarif")"
} >>"$outputs"
exit "$code"
