// Constants shared by the mqtt-echo driver, server and client. Dependency-free so every
// process pays the same import cost regardless of variant.
export const VARIANTS = ['baseline', 'tidewatch', 'prom-naive'];

/** Each client subscribes to its own topic and publishes to it: the broker echoes every publish. */
export const topicOf = (clientId) => `echo/${clientId}`;
