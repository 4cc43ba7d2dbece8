/* Status messages, the version and the limits of include/provmark.h. */
#include "provmark.h"

int pm_version(void) { return PM_VERSION; }
const char *pm_version_string(void) { return PM_VERSION_STRING; }
uint32_t pm_id_max(void) { return PM_ID_MAX; }
int pm_max_keys(void) { return PM_MAX_KEYS; }
int pm_max_expected(void) { return PM_MAX_EXPECTED; }
int pm_max_channels(void) { return PM_MAX_CHANNELS; }
int pm_max_segments(void) { return PM_MAX_SEGMENTS; }
float pm_strength_min(void) { return PM_STRENGTH_MIN; }
float pm_strength_max(void) { return PM_STRENGTH_MAX; }
float pm_strength_default(void) { return PM_STRENGTH_DEFAULT; }
int pm_format_default(void) { return PM_FORMAT_DEFAULT; }
size_t pm_result_size(void) { return sizeof(pm_result); }
size_t pm_mark_size(void) { return sizeof(pm_mark); }

const char *pm_strerror(pm_status status)
{
    switch (status) {
    case PM_OK: return "success";
    case PM_ERR_ARG: return "invalid argument";
    case PM_ERR_NOMEM: return "out of memory";
    case PM_ERR_RATE: return "unsupported sample rate (" PM_STR(PM_MIN_RATE) " to " PM_STR(PM_MAX_RATE) " Hz)";
    case PM_ERR_CHANNELS: return "unsupported channel count (1 to " PM_STR(PM_MAX_CHANNELS) ")";
    case PM_ERR_ID: return "ID out of range (0 to " PM_STR(PM_ID_MAX) ")";
    case PM_ERR_STRENGTH:
        return "strength out of range (" PM_STR(PM_STRENGTH_MIN) " to " PM_STR(PM_STRENGTH_MAX) ")";
    case PM_ERR_KEY: return "key file missing, unreadable or malformed";
    case PM_ERR_EXISTS: return "file exists; refusing to overwrite";
    case PM_ERR_IO: return "input/output error";
    case PM_ERR_CRYPTO: return "crypto library failed to initialise";
    case PM_ERR_STATE: return "call not valid in this state";
    case PM_ERR_FORMAT: return "format version not supported (" PM_STR(PM_FORMAT_MIN) " to " PM_STR(PM_FORMAT_MAX) ")";
    default: return "unknown error";
    }
}
