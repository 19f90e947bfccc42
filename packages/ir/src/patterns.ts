/** Semantic Versioning 2.0.0, the regular expression semver.org recommends. */
export const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** `connector_<provider>_<entity>_v<major>`; group 1 is provider + entity, group 2 the major version. */
export const CONNECTOR_ID = /^connector_([a-z0-9]+(?:_[a-z0-9]+)*)_v(\d+)$/;
