/** Printed by `victoria --version`. */
export const VICTORIA_VERSION = "0.1.0";
