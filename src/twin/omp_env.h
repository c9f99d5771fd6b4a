// OpenMP's waiting on a shared machine (docs/twin.md, "Threads on a shared machine").
//
// libgomp lets a thread that waits at a barrier spin (OMP_WAIT_POLICY unset: up to about 300,000
// spins before it sleeps). When the machine is busy and a solver thread's partner has been
// preempted, the spinning thread burns the time slice the partner needs, and two threads were
// slower than one in every loaded measurement. With OMP_WAIT_POLICY=passive waiting threads sleep
// at once. libgomp reads the variable when it is loaded, before main(), so a process that was
// started without it sets it and executes itself again.
#pragma once

namespace allmende::twin {

// Unless OMP_WAIT_POLICY is set (an operator's choice is kept): sets it to passive with a short
// spin first (GOMP_SPINCOUNT=30000 unless set) and re-executes
// /proc/self/exe with the same arguments (same process id). Returns only when it did not
// re-execute (the variable was set, or exec failed: the process goes on with libgomp's default).
void ensurePassiveOpenMpWait(char** argv);

}  // namespace allmende::twin
