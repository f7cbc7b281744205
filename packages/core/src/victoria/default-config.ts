/**
 * The bundled `victoria.yaml`, used when neither `-c` nor `VICTORIA_CONFIG` names a file.
 * Kept as a string (not a file beside the code) so Lambda bundles carry it without asset copying.
 */
export const DEFAULT_CONFIG_YAML = `# Victoria's bundled default config.
logging_config:
  version: 1
  root:
    level: INFO

# the encryption backend to use: {provider: azure|local, config: {...}}
encryption_provider: null

# storage backends by name: local, azure, s3
storage_providers:
  local:
    container: .victoria/store

# inline config for plugins, keyed by plugin name
plugins_config:
  config:
    indent: 2

# plugin config kept in storage instead: {<plugin>: "<storage provider>://<key>"}
plugins_config_location: {}
`;
