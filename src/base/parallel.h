// Runs fn(0) .. fn(count-1) on `workers` threads (0: one per core). Tasks are handed out in
// order; after the first failure no new task starts and that failure is returned.
#pragma once

#include <cstddef>
#include <functional>

#include "base/status.h"

namespace lifeboat {

unsigned DefaultWorkers();
Status RunParallel(size_t count, unsigned workers, const std::function<Status(size_t)>& fn);

}  // namespace lifeboat
