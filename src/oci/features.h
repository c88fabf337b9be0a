#pragma once
/* The runtime-spec features document that `hull features` prints, as text. Caller frees. */
char *oci_features_json(void);
