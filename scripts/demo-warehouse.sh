#!/usr/bin/env bash
# Demo warehouse data, run by `./rwe demo` (which has started PostgreSQL and exported the connection settings):
#   source `synthetic`: a generated heart-failure population (every modality, known treatment effect);
#   source `eunomia`:   OHDSI's Eunomia GiBleed sample (tests/data/eunomia-gibleed.tar.br).
# Each step is skipped when it is already done, so running this twice is harmless.
# The sources are registered without custodian: the demo tenants do not exist yet. `rwe seed-demo`, which runs next,
# makes Northwind Hospital their custodian and sets their consent models (DemoSeeder; docs/consent.md). Elsewhere,
# name the custodian at registration: `rwe source add NAME --custodian SLUG`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DLL="$ROOT/src/RwePortal.Cli/bin/${RWE_CONFIGURATION:-Release}/net10.0/rwe.dll"
SYNTHETIC_PERSONS="${RWE_DEMO_PERSONS:-20000}"
SYNTHETIC_SEED=42

say() { printf 'demo-warehouse: %s\n' "$*" >&2; }
rwe() { dotnet "$DLL" "$@"; }

[ -f "$DLL" ] || { say "the CLI is not built: $DLL is missing (run ./rwe demo, or dotnet build src/RwePortal.Cli -c ${RWE_CONFIGURATION:-Release})"; exit 1; }

# `rwe source list` prints: name, schema, CDM, loaded at, custodian, persons ("never" and "-" before the first load).
source_field() {
    local name="$1" field="$2"
    rwe source list | awk -v name="$name" -v field="$field" '
        NR > 2 && $1 == name {
            if (field == "persons") { gsub(",", "", $NF); print $NF }
            else if (field == "loaded") { print ($4 == "never" ? "never" : "yes") }
            else { print "yes" }
        }'
}

ensure_source() {
    local name="$1" description="$2"
    if [ -z "$(source_field "$name" exists)" ]; then
        rwe source add "$name" --description "$description"
    fi
}

# ---------------------------------------------------------------- synthetic
ensure_source synthetic "Synthetic heart-failure population (docs/synthetic-data-model.md)"
if [ "$(source_field synthetic loaded)" = "yes" ] && [ "$(source_field synthetic persons)" = "$SYNTHETIC_PERSONS" ]; then
    say "synthetic: already generated ($SYNTHETIC_PERSONS persons), skipped"
else
    say "synthetic: generating $SYNTHETIC_PERSONS persons (seed $SYNTHETIC_SEED)"
    rwe generate --source synthetic --persons "$SYNTHETIC_PERSONS" --seed "$SYNTHETIC_SEED"
fi

# ---------------------------------------------------------------- eunomia
ensure_source eunomia "OHDSI Eunomia GiBleed sample (Synthea, CDM 5.3)"
if [ "$(source_field eunomia loaded)" = "yes" ] && [ "$(source_field eunomia persons)" != "-" ]; then
    say "eunomia: already loaded, skipped"
else
    archive="$ROOT/tests/data/eunomia-gibleed.tar.br"
    [ -f "$archive" ] || { say "eunomia: $archive is missing"; exit 1; }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    rwe unpack "$archive" --to "$work" >/dev/null
    say "eunomia: loading the GiBleed sample"
    rwe load-omop --source eunomia --dir "$work" --replace
fi
