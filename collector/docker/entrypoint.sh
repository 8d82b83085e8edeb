#!/bin/sh
# Renders the config template (LLMWATCH_CONFIG_TEMPLATE) with ${VAR} values from the environment,
# so keys and passwords stay out of files, then runs the llmwatch CLI.
set -eu
if [ -n "${LLMWATCH_CONFIG_TEMPLATE:-}" ]; then
  node -e '
    const fs = require("node:fs");
    const text = fs.readFileSync(process.argv[1], "utf8").replace(/\$\{(\w+)\}/g, (_, name) => {
      const value = process.env[name];
      if (value === undefined) { console.error(`llmwatch: ${name} is not set`); process.exit(2); }
      return value;
    });
    fs.writeFileSync(process.argv[2], text, { mode: 0o600 });
  ' "$LLMWATCH_CONFIG_TEMPLATE" /tmp/llmwatch.config.yaml
fi
exec node /app/collector/dist/cli/main.js "$@"
