#include "provmark.h"

int pm_version(void) { return PM_VERSION; }
const char *pm_version_string(void) { return PM_VERSION_STRING; }

const char *pm_strerror(pm_status status)
{
    switch (status) {
    case PM_OK: return "success";
    case PM_ERR_ARG: return "invalid argument";
    case PM_ERR_NOMEM: return "out of memory";
    case PM_ERR_RATE: return "unsupported sample rate (8000 to 384000 Hz)";
    case PM_ERR_CHANNELS: return "unsupported channel count (1 to 8)";
    case PM_ERR_ID: return "ID out of range (0 to 16777215)";
    case PM_ERR_STRENGTH: return "strength out of range (0 to 4)";
    case PM_ERR_KEY: return "key file missing, unreadable or malformed";
    case PM_ERR_EXISTS: return "file exists; refusing to overwrite";
    case PM_ERR_IO: return "input/output error";
    case PM_ERR_CRYPTO: return "crypto library failed to initialise";
    case PM_ERR_STATE: return "call not valid in this state";
    default: return "unknown error";
    }
}
