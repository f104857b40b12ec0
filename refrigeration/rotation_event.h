// The closed-loop replay of one event from a fleet state reached beforehand (the campaign forks
// one FleetBranch per event); rotation_replay.h has the method and ReplayRotation, its public
// form.
#ifndef NEMESYST_REFRIGERATION_ROTATION_EVENT_H_
#define NEMESYST_REFRIGERATION_ROTATION_EVENT_H_

#include "nemesyst/refrigeration/rotation_replay.h"
#include "refrigeration/fleet_branch.h"

namespace nemesyst::refrigeration {

// `at_start`: the fleet with its next instant to observe at the event start.
Result<RotationEventResult> RunRotationEvent(const FleetBranch& at_start,
                                             const RotationEventOptions& options,
                                             const LowerBoundSource& bounds);

}  // namespace nemesyst::refrigeration

#endif  // NEMESYST_REFRIGERATION_ROTATION_EVENT_H_
