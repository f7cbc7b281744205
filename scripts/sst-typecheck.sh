#!/usr/bin/env bash
# Type-checks sst.config.ts and infra/*.ts against SST's own declarations (`$config`, `sst.aws.*`,
# `aws.*` from @pulumi/aws), which only exist once `sst install` has written .sst/platform.
# Needs the npm registry the first time (about a minute); afterwards it only runs tsc.
# No AWS account or credentials are used: `sst install` evaluates app() and fetches packages.
set -euo pipefail
cd "$(dirname "$0")/.."

platform=.sst/platform
sst_version=$(node -p 'require("./node_modules/sst/package.json").version')
# The @pulumi/aws version pinned in sst.config.ts (providers.aws.version).
aws_version=$(sed -n 's/.*aws: {.*version: "\([0-9][0-9.]*\)".*/\1/p' sst.config.ts | head -n 1)
installed_aws=$(node -p 'try { require("./.sst/platform/node_modules/@pulumi/aws/package.json").version } catch { "" }')

if [[ ! -f $platform/config.d.ts ]] ||
  [[ "$(cat $platform/version 2>/dev/null)" != "$sst_version" ]] ||
  [[ -n $aws_version && $installed_aws != "$aws_version" ]]; then
  echo "sst-typecheck: installing SST $sst_version platform and providers into $platform" >&2
  SST_STAGE=${SST_STAGE:-typecheck} SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 \
    npx --no-install sst install
fi

npx --no-install tsc --noEmit -p tsconfig.sst.json
