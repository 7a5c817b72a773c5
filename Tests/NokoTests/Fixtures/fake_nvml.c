// A fake libnvidia-ml.so.1 for the system sampler's tests, built by them with `cc -shared`.
// Two GPUs: GPU 0 plain, GPU 1 in MIG mode with MIG devices in slots 0 and 2 (slot 1 is
// empty). nvmlDeviceGetPowerUsage fails on every device (NVML_ERROR_UNKNOWN), so the tests
// see one failing metric beside working ones. GPU 1 runs 40 processes, more than the
// sampler's first buffer holds, so the INSUFFICIENT_SIZE retry is taken.
#include <stdint.h>
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;
enum { OK = 0, NOT_SUPPORTED = 3, NOT_FOUND = 6, INSUFFICIENT_SIZE = 7, UNKNOWN = 999 };
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; } nvmlProcessInfo_t;

struct device { int index, mig, utilization, temperature; unsigned long long total, used, own; int others; };
static struct device gpus[2] = {
    {0, -1, 37, 55, 16ULL << 30, 3ULL << 30, 512ULL << 20, 1},
    {1, -1, 80, 61, 40ULL << 30, 10ULL << 30, 2ULL << 30, 39},
};
static struct device migs[2] = {
    {1, 0, 0, 0, 10ULL << 30, 1ULL << 30, 256ULL << 20, 0},
    {1, 2, 0, 0, 20ULL << 30, 2ULL << 30, 0, 2},
};
typedef struct device *nvmlDevice_t;
static int initialized;

nvmlReturn_t nvmlInit_v2(void) { initialized = 1; return OK; }
nvmlReturn_t nvmlShutdown(void) { initialized = 0; return OK; }
const char *nvmlErrorString(nvmlReturn_t code) {
    switch (code) {
    case OK: return "Success";
    case NOT_SUPPORTED: return "Not Supported";
    case NOT_FOUND: return "Not Found";
    case INSUFFICIENT_SIZE: return "Insufficient Size";
    default: return "Unknown Error";
    }
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) { *count = 2; return OK; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (index >= 2) return NOT_FOUND;
    *device = &gpus[index];
    return OK;
}
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *rates) {
    if (device->mig >= 0) return NOT_SUPPORTED;
    rates->gpu = device->utilization;
    rates->memory = device->utilization / 2;
    return OK;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    memory->total = device->total;
    memory->used = device->used;
    memory->free = device->total - device->used;
    return OK;
}
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *celsius) {
    if (device->mig >= 0 || sensor != 0) return NOT_SUPPORTED;
    *celsius = device->temperature;
    return OK;
}
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *milliwatts) {
    (void)device;
    (void)milliwatts;
    return UNKNOWN;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count, nvmlProcessInfo_t *infos) {
    unsigned int needed = device->others + (device->own ? 1 : 0);
    if (*count < needed) {
        *count = needed;
        return INSUFFICIENT_SIZE;
    }
    for (int i = 0; i < device->others; i++) {
        infos[i] = (nvmlProcessInfo_t){(unsigned int)(100000 + i), 1ULL << 30, 0, 0};
    }
    if (device->own) infos[device->others] = (nvmlProcessInfo_t){(unsigned int)getpid(), device->own, 0, 0};
    *count = needed;
    return OK;
}
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current, unsigned int *pending) {
    if (device->mig >= 0) return NOT_SUPPORTED;
    *current = *pending = device->index == 1;
    return OK;
}
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count) {
    *count = device->index == 1 ? 3 : 0;
    return OK;
}
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index, nvmlDevice_t *mig) {
    if (device->index != 1 || device->mig >= 0) return NOT_SUPPORTED;
    if (index == 0) { *mig = &migs[0]; return OK; }
    if (index == 2) { *mig = &migs[1]; return OK; }
    return NOT_FOUND;
}
