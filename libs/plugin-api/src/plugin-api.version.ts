/**
 * The version of the plugin API this host implements. A plugin declares the range it
 * supports (`compatibility: '^1.0.0'`); the loader refuses a plugin whose range does not
 * include this version before Nest starts. Bump the minor version for additions plugins
 * may rely on, the major version for changes that break existing plugins.
 */
export const FOREST_PLUGIN_API_VERSION = '1.0.0';
