#pragma once
#include <stdbool.h>
/* The config.json that `hull spec` writes (runc's default, or its --rootless variant), as text.
 * Caller frees. */
char *oci_default_spec(bool rootless);
