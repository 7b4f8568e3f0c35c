// KernelDsl emulator engine: runs a kernel compiled against kerneldsl_emulation.h with CUDA's execution
// model on the CPU, checking what a GPU would leave to chance.
//
// Execution model
//   - The blocks of the grid run one after another in a seeded shuffled order (a kernel whose result
//     depends on block order shows it).
//   - The threads of a block are fibers on the launching OS thread. A fiber runs until it reaches
//     __syncthreads, a warp collective or its end; the scheduler then runs the next. __syncthreads
//     releases when every thread of the block waits at the same call; a thread that exited, or waits at
//     another __syncthreads, is a divergent barrier (an error, never a hang). Fibers resume in a fresh
//     shuffled order after every barrier.
//   - Warp collectives (mma.sync, ldmatrix, __shfl_xor_sync, __syncwarp) execute once every lane they
//     name has arrived at the same call, with the fragment layouts of the PTX ISA.
//   - cp.async poisons its destination (0xFF bytes: NaN in fp32, fp16 and bf16) when issued and delivers
//     the data at the cp.async.wait_group that requires it; reading the destination before is an error.
//   - Hopper (sm_90a): an mbarrier completes a phase when its arrivals and transaction bytes are all in;
//     a thread waiting on a phase parity that never completes is a deadlock (an error, never a hang). A
//     TMA tensor copy poisons its box when issued and lands when a thread waits on its mbarrier, or when
//     nothing else can run. wgmma.mma_async is a warpgroup collective that executes at the
//     wgmma.wait_group retiring its group: accumulators read before it are stale, operands still in
//     flight (a TMA copy not landed) or overwritten before it (a TMA copy into them) are errors.
// Memory checks (every load and store the compiler keeps, through the __tsan_* hooks at the end)
//   - shared memory: within the launch's dynamic size; a byte written by one thread and read or written
//     by another between the same two barriers (same warp: the same two __syncwarp) is a race;
//   - global memory: inside one of the launch's buffers; anything else (another thread's stack included)
//     is an out-of-bounds access naming the nearest buffer.
// Counters: instructions by kind, shared-memory wavefronts against the conflict-free ideal (the k-th
// access of each lane of a warp between two barriers is taken as one warp-wide request, as a converged
// warp issues it), global 32-byte sectors per request against the ideal.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>
#include <sys/mman.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#define KD_EXPORT extern "C" __attribute__((visibility("default")))

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; };

extern "C" {
struct kd_emu_buffer { uint64_t base, bytes; const char* label; };

struct kd_emu_launch_desc {
    const char* kernel;
    void (*entry)(void**);
    unsigned char* (*shared)();
    void** args;
    uint32_t grid[3], block[3];
    uint32_t shared_bytes;
    uint64_t seed;
    const kd_emu_buffer* buffers;
    int32_t buffer_count;
};

struct kd_emu_report {
    uint64_t blocks, threads, barriers, mma, ldmatrix, shfl, syncwarp, cp_async, cp_async_bytes, ex2;
    uint64_t shared_requests, shared_wavefronts, shared_ideal_wavefronts;
    uint64_t ldmatrix_wavefronts, ldmatrix_ideal_wavefronts;
    uint64_t global_load_requests, global_load_sectors, global_load_ideal_sectors;
    uint64_t global_store_requests, global_store_sectors, global_store_ideal_sectors;
    uint64_t wgmma, tma, tma_bytes, mbarrier_waits;
};
}

namespace { struct Fiber; }
extern "C" __attribute__((visibility("hidden"), used)) void kd_emu_fiber_main(Fiber* f);

// ---- Fibers: a minimal context switch (callee-saved registers, MXCSR and the x87 control word).
#if defined(__x86_64__)
extern "C" void kd_emu_switch(void** save_sp, void* next_sp);
extern "C" void kd_emu_fiber_start();
asm(R"(
    .pushsection .text
    .p2align 4
    .hidden kd_emu_switch
kd_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .p2align 4
    .hidden kd_emu_fiber_start
kd_emu_fiber_start:
    movq %r12, %rdi
    call kd_emu_fiber_main
    ud2
    .popsection
)");
#endif

namespace {

constexpr int MaxSharedBytes = 232448;
constexpr size_t StackBytes = 256 * 1024;
constexpr size_t GuardBytes = 4096;
constexpr unsigned char Poison = 0xFF;
constexpr uint8_t PendingCpAsync = 1, PendingTma = 2;  // Shadow::pending: whose data has not landed yet

enum class State : uint8_t { Runnable, Running, Barrier, Collective, MbarrierWait, Exited };
// Warp collectives, then (from WgmmaFence on) the warpgroup collectives of sm_90a.
enum class Op : uint8_t { SyncWarp, Shfl, Ldmatrix, Mma, WgmmaFence, Wgmma, WgmmaCommit, WgmmaWait, Setmaxnreg };
const char* OpName(Op op)
{
    switch (op) {
        case Op::SyncWarp: return "__syncwarp";
        case Op::Shfl: return "__shfl_xor_sync";
        case Op::Ldmatrix: return "ldmatrix";
        case Op::Mma: return "mma.sync";
        case Op::WgmmaFence: return "wgmma.fence";
        case Op::Wgmma: return "wgmma.mma_async";
        case Op::WgmmaCommit: return "wgmma.commit_group";
        case Op::WgmmaWait: return "wgmma.wait_group";
        default: return "setmaxnreg";
    }
}
bool WarpgroupOp(Op op) { return op >= Op::WgmmaFence; }

struct Copy { uint32_t dst; const unsigned char* src; int size, src_bytes; };

struct Fiber {
    void* sp = nullptr;
    unsigned char* stack = nullptr;  // usable stack, above the guard page
    int tid = 0, warp = 0, lane = 0;
    uint3 index{};
    State state = State::Runnable;
    int line = 0;
    // The collective this fiber waits in, and its operands.
    Op op = Op::SyncWarp;
    unsigned mask = 0, value = 0, result = 0;
    int lane_mask = 0, width = 32, count = 0, trans = 0, bf16 = 0;
    uint32_t addr = 0;
    unsigned* regs = nullptr;
    float* d = nullptr;
    const unsigned* a = nullptr;
    const unsigned* b = nullptr;
    std::vector<std::vector<Copy>> committed;  // cp.async groups, oldest first
    std::vector<Copy> open;                      // issued since the last commit
    // sm_90a: the mbarrier this fiber waits on and the phase parity it waits for; a wgmma's operands.
    uint32_t bar = 0, parity = 0;
    uint64_t desc_a = 0, desc_b = 0;
    int n = 0, scale_d = 0;
    uint32_t shared_seq = 0, global_seq = 0, store_seq = 0;  // accesses since the last barrier
};

// One shared-memory byte's history since the last barrier.
struct Shadow {
    uint32_t w_epoch, r_epoch;
    uint16_t w_tid, r_tid, w_wepoch, r_wepoch, w_line;
    int16_t r_warp;  // warp of the readers, -1 when several warps read
    uint8_t pending, r_multi;
};

struct Request { uint32_t lanes; uint64_t addr[32]; uint8_t size[32]; };

// ---- sm_90a state.
// An mbarrier (PTX ISA, "Parallel Synchronization and Communication Instructions: mbarrier"): a phase completes
// when `pending` arrivals and `tx` transaction bytes are all in; the next phase then expects `expected` arrivals.
struct Mbarrier { bool init = false; int expected = 0, pending = 0; int64_t tx = 0; uint32_t phase = 0; };

// A 2-D tiled tensor map as the runtime encodes it for the emulator (TensorMap.cs, same field order).
constexpr uint64_t TensorMapMagic = 0x31304d5444534b44ull;  // "DKSDTM01" little-endian: KernelDsl tensor map v1
struct TensorMapView { uint64_t address; uint32_t dim[2]; uint64_t stride; uint32_t box[2]; uint32_t element, swizzle; };

// A TMA copy in flight: its destination, box origin and the mbarrier it completes transaction bytes on.
struct TmaCopy { uint32_t dst, bar; TensorMapView map; int x, y, tid, line; };

// One wgmma.mma_async of a warpgroup, with each of its 128 threads' accumulators.
struct WgmmaOp { uint64_t a, b; int n, bf16, scale_d, line; float* d[128]; };
struct Warpgroup {
    std::vector<WgmmaOp> open;                    // issued since the last commit
    std::vector<std::vector<WgmmaOp>> committed;  // groups in flight, oldest first
    bool fenced = false;                          // a wgmma.fence since the last commit
};

struct Launch {
    const kd_emu_launch_desc* desc = nullptr;
    kd_emu_report report{};
    std::string error;
    bool failed = false;
    unsigned char* shared = nullptr;
    uint32_t shared_bytes = 0;
    std::vector<Shadow> shadow;
    std::vector<kd_emu_buffer> buffers;  // sorted by base
    std::vector<Fiber> fibers;
    std::vector<uint16_t> warp_epoch;
    std::vector<std::vector<Request>> shared_requests, global_loads, global_stores;  // per warp, by sequence number
    std::vector<Mbarrier> mbarriers;   // one per 8 bytes of shared memory
    std::vector<TmaCopy> tma;          // TMA copies in flight
    std::vector<Warpgroup> warpgroups;
    std::vector<uint16_t> wgmma_reads; // per shared byte: in-flight wgmma operands that read it
    std::vector<Fiber*>* runnable = nullptr;  // the scheduler's queue, for fibers an mbarrier phase wakes
    unsigned char* stacks = nullptr;
    size_t stacks_bytes = 0;
    void* scheduler_sp = nullptr;
    uint3 block{};
    uint32_t epoch = 1;
    int threads = 0, warps = 0;
    std::mt19937_64 random;
#if !defined(__x86_64__)
    std::vector<ucontext_t> contexts;
    ucontext_t scheduler_context;
#endif
};

thread_local Launch* current = nullptr;
thread_local Fiber* running = nullptr;

[[noreturn]] void Abandon(Fiber* f);

#if !defined(__x86_64__)
void FiberTrampoline(unsigned hi, unsigned lo)
{
    kd_emu_fiber_main(reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo));
}
#endif

void ToScheduler(Fiber* f)
{
#if defined(__x86_64__)
    kd_emu_switch(&f->sp, current->scheduler_sp);
#else
    swapcontext(&current->contexts[f->tid], &current->scheduler_context);
#endif
}

[[noreturn]] void Abandon(Fiber* f)
{
    ToScheduler(f);
    __builtin_trap();  // an exited or failed fiber is never resumed
}

}  // namespace

extern "C" void kd_emu_fiber_main(Fiber* f)
{
    current->desc->entry(current->desc->args);
    f->state = State::Exited;
    Abandon(f);
}

namespace {

void Resume(Launch& l, Fiber* f)
{
    running = f;
    f->state = State::Running;
#if defined(__x86_64__)
    kd_emu_switch(&l.scheduler_sp, f->sp);
#else
    swapcontext(&l.scheduler_context, &l.contexts[f->tid]);
#endif
    running = nullptr;
}

void StartFiber(Launch& l, Fiber* f)
{
#if defined(__x86_64__)
    // Frame popped by kd_emu_switch: MXCSR/FPCW slot, r15, r14, r13, r12 (= f), rbx, rbp, return address.
    auto* top = reinterpret_cast<uint64_t*>(f->stack + StackBytes - GuardBytes);
    uint64_t* p = top;
    *--p = reinterpret_cast<uint64_t>(&kd_emu_fiber_start);
    *--p = 0;                                 // rbp
    *--p = 0;                                 // rbx
    *--p = reinterpret_cast<uint64_t>(f);     // r12
    *--p = 0;                                 // r13
    *--p = 0;                                 // r14
    *--p = 0;                                 // r15
    *--p = 0x037F00001F80ull;                 // MXCSR default, x87 control word default
    f->sp = p;
#else
    ucontext_t& c = l.contexts[f->tid];
    getcontext(&c);
    c.uc_stack.ss_sp = f->stack;
    c.uc_stack.ss_size = StackBytes - GuardBytes;
    c.uc_link = nullptr;
    uintptr_t bits = reinterpret_cast<uintptr_t>(f);
    makecontext(&c, reinterpret_cast<void (*)()>(FiberTrampoline), 2, static_cast<unsigned>(bits >> 32), static_cast<unsigned>(bits));
#endif
}

// ---- Errors: the first one wins; a fiber that fails is abandoned, the launch stops after it.
void Fail(const char* format, ...) __attribute__((format(printf, 1, 2)));
void Fail(const char* format, ...)
{
    Launch& l = *current;
    if (!l.failed) {
        char text[1024];
        va_list args;
        va_start(args, format);
        vsnprintf(text, sizeof text, format, args);
        va_end(args);
        char where[160];
        snprintf(where, sizeof where, "%s, block (%u, %u, %u): ", l.desc->kernel, l.block.x, l.block.y, l.block.z);
        l.error = std::string(where) + text;
        l.failed = true;
    }
    if (running != nullptr) {
        Fiber* f = running;
        f->state = State::Exited;
        Abandon(f);
    }
}

Fiber* Self(const char* what)
{
    if (current == nullptr || running == nullptr) {
        fprintf(stderr, "KernelDsl emulator: %s called outside an emulated launch\n", what);
        __builtin_trap();
    }
    return running;
}

// ---- Shared memory: bounds, races, unfinished copies.
bool SameWarpOrdered(const Launch& l, int other_tid, uint16_t other_wepoch, const Fiber* f)
{
    return other_tid / 32 == f->warp && other_wepoch != l.warp_epoch[f->warp];
}

void CheckSharedRange(const Launch& l, const Fiber* f, uint64_t offset, int size, const char* what)
{
    if (offset + size > l.shared_bytes) {
        Fail("thread %d: %s of %d bytes at shared offset %llu, past the launch's %u bytes of dynamic shared memory",
             f->tid, what, size, static_cast<unsigned long long>(offset), l.shared_bytes);
    }
}

void SharedRead(Launch& l, Fiber* f, uint32_t offset, int size)
{
    for (int i = 0; i < size; ++i) {
        Shadow& s = l.shadow[offset + i];
        if (s.pending == PendingTma) {
            Fail("thread %d reads shared offset %u before the TMA copy issued into it by thread %d (line %d) has "
                 "landed: a wait on its mbarrier is missing or waits for the wrong phase", f->tid, offset + i, s.w_tid, s.w_line);
        }
        if (s.pending) {
            Fail("thread %d reads shared offset %u before the cp.async issued into it by thread %d (line %d) has "
                 "completed: a cp.async.wait_group is missing or too shallow", f->tid, offset + i, s.w_tid, s.w_line);
        }
        if (s.w_epoch == l.epoch && s.w_tid != f->tid && !SameWarpOrdered(l, s.w_tid, s.w_wepoch, f)) {
            Fail("race on shared offset %u: thread %d reads it after thread %d wrote it (line %d) with no __syncthreads "
                 "between", offset + i, f->tid, s.w_tid, s.w_line);
        }
        if (s.r_epoch != l.epoch) {
            s.r_epoch = l.epoch;
            s.r_tid = static_cast<uint16_t>(f->tid);
            s.r_warp = static_cast<int16_t>(f->warp);
            s.r_multi = 0;
        } else {
            if (s.r_tid != f->tid) s.r_multi = 1;
            if (s.r_warp != f->warp) s.r_warp = -1;
        }
        s.r_wepoch = l.warp_epoch[f->warp];
    }
}

void SharedWrite(Launch& l, Fiber* f, uint32_t offset, int size, int line, bool async)
{
    for (int i = 0; i < size; ++i) {
        Shadow& s = l.shadow[offset + i];
        if (s.pending) {
            Fail("thread %d writes shared offset %u while the %s issued into it by thread %d (line %d) has not "
                 "completed", f->tid, offset + i, s.pending == PendingTma ? "TMA copy" : "cp.async", s.w_tid, s.w_line);
        }
        if (s.w_epoch == l.epoch && s.w_tid != f->tid && !SameWarpOrdered(l, s.w_tid, s.w_wepoch, f)) {
            Fail("race on shared offset %u: threads %d (line %d) and %d both write it with no __syncthreads between",
                 offset + i, s.w_tid, s.w_line, f->tid);
        }
        if (s.r_epoch == l.epoch) {
            bool other_warp = s.r_warp != f->warp;
            bool other_lane = s.r_multi || s.r_tid != f->tid;
            if (other_warp || (other_lane && s.r_wepoch == l.warp_epoch[f->warp])) {
                Fail("race on shared offset %u: thread %d %s it while thread %d reads it with no __syncthreads between",
                     offset + i, f->tid, async ? "copies (cp.async) into" : "writes", s.r_tid);
            }
        }
        s.w_epoch = l.epoch;
        s.w_tid = static_cast<uint16_t>(f->tid);
        s.w_wepoch = l.warp_epoch[f->warp];
        s.w_line = static_cast<uint16_t>(line);
        s.pending = async ? PendingCpAsync : 0;
    }
}

// ---- Global memory: inside one of the launch's buffers.
void CheckGlobal(const Launch& l, const Fiber* f, uint64_t address, int size, const char* what)
{
    auto after = std::upper_bound(l.buffers.begin(), l.buffers.end(), address,
                                  [](uint64_t a, const kd_emu_buffer& b) { return a < b.base; });
    if (after != l.buffers.begin()) {
        const kd_emu_buffer& b = *(after - 1);
        if (address >= b.base && address + size <= b.base + b.bytes) return;
        if (address < b.base + b.bytes + 4096) {
            Fail("thread %d: out-of-bounds %s of %d bytes at byte %lld of %s (%llu bytes)", f->tid, what, size,
                 static_cast<long long>(address - b.base), b.label, static_cast<unsigned long long>(b.bytes));
        }
    }
    if (after != l.buffers.end() && after->base - address <= 4096) {
        Fail("thread %d: out-of-bounds %s of %d bytes at byte -%llu of %s (%llu bytes)", f->tid, what, size,
             static_cast<unsigned long long>(after->base - address), after->label, static_cast<unsigned long long>(after->bytes));
    }
    Fail("thread %d: %s of %d bytes at address 0x%llx, which is in no device buffer of the launch, not shared memory "
         "and not the thread's own stack", f->tid, what, size, static_cast<unsigned long long>(address));
}

// ---- Counters: the k-th access of each lane between two barriers is one warp-wide request.
void Record(std::vector<Request>& requests, uint32_t& seq, int lane, uint64_t address, int size)
{
    if (seq >= requests.size()) requests.resize(seq + 1, Request{});
    Request& r = requests[seq++];
    r.lanes |= 1u << lane;
    r.addr[lane] = address;
    r.size[lane] = static_cast<uint8_t>(size);
}

// Wavefronts of one request: lanes go in phases of 128 bytes; a phase takes as many wavefronts as the most
// distinct 4-byte words any of the 32 banks holds. The ideal is the phase's distinct words / 32, rounded up.
void SharedWavefronts(const Request& r, uint64_t& wavefronts, uint64_t& ideal)
{
    int size = 4;
    for (int lane = 0; lane < 32; ++lane) {
        if (r.lanes >> lane & 1) size = std::max<int>(size, r.size[lane]);
    }
    int per_phase = 128 / size;
    for (int first = 0; first < 32; first += per_phase) {
        std::vector<uint64_t> words;
        for (int lane = first; lane < first + per_phase; ++lane) {
            if (!(r.lanes >> lane & 1)) continue;
            for (uint64_t w = r.addr[lane] / 4; w <= (r.addr[lane] + r.size[lane] - 1) / 4; ++w) words.push_back(w);
        }
        if (words.empty()) continue;
        std::sort(words.begin(), words.end());
        words.erase(std::unique(words.begin(), words.end()), words.end());
        int per_bank[32] = {};
        int most = 0;
        for (uint64_t w : words) most = std::max(most, ++per_bank[w % 32]);
        wavefronts += most;
        ideal += (words.size() + 31) / 32;
    }
}

void GlobalSectors(const Request& r, uint64_t& sectors, uint64_t& ideal)
{
    std::vector<uint64_t> s, bytes;
    for (int lane = 0; lane < 32; ++lane) {
        if (!(r.lanes >> lane & 1)) continue;
        for (uint64_t x = r.addr[lane] / 32; x <= (r.addr[lane] + r.size[lane] - 1) / 32; ++x) s.push_back(x);
        for (int i = 0; i < r.size[lane]; ++i) bytes.push_back(r.addr[lane] + i);
    }
    std::sort(s.begin(), s.end());
    sectors += std::unique(s.begin(), s.end()) - s.begin();
    std::sort(bytes.begin(), bytes.end());
    ideal += (std::unique(bytes.begin(), bytes.end()) - bytes.begin() + 31) / 32;
}

void FlushRequests(Launch& l)
{
    for (int w = 0; w < l.warps; ++w) {
        for (const Request& r : l.shared_requests[w]) {
            if (!r.lanes) continue;
            ++l.report.shared_requests;
            SharedWavefronts(r, l.report.shared_wavefronts, l.report.shared_ideal_wavefronts);
        }
        for (const Request& r : l.global_loads[w]) {
            if (!r.lanes) continue;
            ++l.report.global_load_requests;
            GlobalSectors(r, l.report.global_load_sectors, l.report.global_load_ideal_sectors);
        }
        for (const Request& r : l.global_stores[w]) {
            if (!r.lanes) continue;
            ++l.report.global_store_requests;
            GlobalSectors(r, l.report.global_store_sectors, l.report.global_store_ideal_sectors);
        }
        l.shared_requests[w].clear();
        l.global_loads[w].clear();
        l.global_stores[w].clear();
    }
    for (Fiber& f : l.fibers) f.shared_seq = f.global_seq = f.store_seq = 0;
}

// `natural`: the compiler emitted the access as aligned to its size (the type says so, e.g. a float4 load), which
// the GPU requires of every access; a pointer that breaks it faults there (misaligned address), so it is an error.
void Access(void* p, int size, bool write, bool natural)
{
    Launch* l = current;
    Fiber* f = running;
    if (l == nullptr || f == nullptr) return;
    uint64_t a = reinterpret_cast<uint64_t>(p);
    if (a - reinterpret_cast<uint64_t>(f->stack) < StackBytes - GuardBytes) return;  // the thread's own locals
    if (natural && a % size != 0) {
        Fail("thread %d: misaligned %d-byte %s at address 0x%llx (a GPU requires %d-byte alignment)", f->tid, size,
             write ? "write" : "read", static_cast<unsigned long long>(a), size);
        return;
    }
    uint64_t offset = a - reinterpret_cast<uint64_t>(l->shared);
    if (offset < MaxSharedBytes) {
        CheckSharedRange(*l, f, offset, size, write ? "write" : "read");
        if (write) SharedWrite(*l, f, static_cast<uint32_t>(offset), size, 0, false);
        else SharedRead(*l, f, static_cast<uint32_t>(offset), size);
        Record(l->shared_requests[f->warp], f->shared_seq, f->lane, offset, size);
        return;
    }
    CheckGlobal(*l, f, a, size, write ? "write" : "read");
    if (write) Record(l->global_stores[f->warp], f->store_seq, f->lane, a, size);
    else Record(l->global_loads[f->warp], f->global_seq, f->lane, a, size);
}

// ---- Warp collectives.
std::string Lanes(uint32_t bits)
{
    std::string s;
    for (int i = 0; i < 32; ++i) {
        if (bits >> i & 1) s += (s.empty() ? "" : ",") + std::to_string(i);
    }
    return s;
}

uint16_t Half(const unsigned char* shared, uint32_t offset)
{
    uint16_t h;
    std::memcpy(&h, shared + offset, 2);
    return h;
}

float Bf16ToFloat(uint16_t h)
{
    uint32_t bits = static_cast<uint32_t>(h) << 16;
    float x;
    std::memcpy(&x, &bits, 4);
    return x;
}

float F16ToFloat(uint16_t h)
{
    uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    float magnitude;
    if (exponent == 0) magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    else if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
    else magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
    return sign ? -magnitude : magnitude;
}

void ExecuteLdmatrix(Launch& l, Fiber* lanes)
{
    const Fiber& first = lanes[0];
    ++l.report.ldmatrix;
    for (int m = 0; m < first.count; ++m) {
        // Rows of matrix m come from lanes 8m .. 8m + 7: one 128-byte phase.
        Request phase{};
        for (int row = 0; row < 8; ++row) {
            Fiber& source = lanes[8 * m + row];
            if (source.addr % 16 != 0) {
                Fail("thread %d: ldmatrix row address (shared offset %u) is not 16-byte aligned", source.tid, source.addr);
                return;
            }
            CheckSharedRange(l, &source, source.addr, 16, "ldmatrix read");
            if (l.failed) return;
            SharedRead(l, &source, source.addr, 16);
            phase.lanes |= 1u << row;
            phase.addr[row] = source.addr;
            phase.size[row] = 16;
        }
        SharedWavefronts(phase, l.report.ldmatrix_wavefronts, l.report.ldmatrix_ideal_wavefronts);
        for (int lane = 0; lane < 32; ++lane) {
            int g = lane / 4, t = lane % 4;
            uint16_t lo, hi;
            if (first.trans) {
                lo = Half(l.shared, lanes[8 * m + 2 * t].addr + 2 * g);
                hi = Half(l.shared, lanes[8 * m + 2 * t + 1].addr + 2 * g);
            } else {
                lo = Half(l.shared, lanes[8 * m + g].addr + 4 * t);
                hi = Half(l.shared, lanes[8 * m + g].addr + 4 * t + 2);
            }
            lanes[lane].regs[m] = static_cast<unsigned>(lo) | (static_cast<unsigned>(hi) << 16);
        }
    }
}

// mma.sync.m16n8k16.row.col with fp32 accumulation (PTX ISA, "Matrix Fragments for mma.m16n8k16"):
// g = lane / 4, t = lane % 4. A: register i holds elements 2i, 2i + 1; element e is at row g + 8 ((e / 2) % 2),
// column 2t + e % 2 + 8 (e / 4). B: element e at k = 2t + e % 2 + 8 (e / 2), n = g. C/D: d[i] at row
// g + 8 (i / 2), column 2t + i % 2. Products and sums in double, rounded once to fp32.
void ExecuteMma(Launch& l, Fiber* lanes)
{
    ++l.report.mma;
    bool bf16 = lanes[0].bf16;
    auto value = [bf16](unsigned reg, int half) {
        uint16_t h = static_cast<uint16_t>(half ? reg >> 16 : reg);
        return bf16 ? Bf16ToFloat(h) : F16ToFloat(h);
    };
    double A[16][16], B[16][8], C[16][8];
    for (int lane = 0; lane < 32; ++lane) {
        int g = lane / 4, t = lane % 4;
        for (int e = 0; e < 8; ++e) A[g + 8 * ((e / 2) % 2)][2 * t + e % 2 + 8 * (e / 4)] = value(lanes[lane].a[e / 2], e % 2);
        for (int e = 0; e < 4; ++e) B[2 * t + e % 2 + 8 * (e / 2)][g] = value(lanes[lane].b[e / 2], e % 2);
        for (int i = 0; i < 4; ++i) C[g + 8 * (i / 2)][2 * t + i % 2] = lanes[lane].d[i];
    }
    for (int lane = 0; lane < 32; ++lane) {
        int g = lane / 4, t = lane % 4;
        for (int i = 0; i < 4; ++i) {
            int row = g + 8 * (i / 2), col = 2 * t + i % 2;
            double sum = C[row][col];
            for (int k = 0; k < 16; ++k) sum += A[row][k] * B[k][col];
            lanes[lane].d[i] = static_cast<float>(sum);
        }
    }
}

void Push(Launch& l, std::vector<Fiber*>& runnable, std::vector<Fiber*> wake)
{
    std::shuffle(wake.begin(), wake.end(), l.random);
    runnable.insert(runnable.end(), wake.begin(), wake.end());
}

// ---- sm_90a: mbarriers, TMA tensor copies, warpgroup MMA.
uint32_t SharedOffset(const Launch& l, const Fiber* f, const void* p, const char* what, int line)
{
    uint64_t offset = reinterpret_cast<uint64_t>(p) - reinterpret_cast<uint64_t>(l.shared);
    if (offset >= l.shared_bytes) {
        Fail("thread %d: %s on line %d names %p, which is not in the launch's %u bytes of dynamic shared memory", f->tid,
             what, line, p, l.shared_bytes);
    }
    return static_cast<uint32_t>(offset);
}

Mbarrier& BarrierAt(Launch& l, const Fiber* f, const void* p, const char* what, int line, uint32_t& offset)
{
    offset = SharedOffset(l, f, p, what, line);
    if (offset % 8 != 0) Fail("thread %d: %s on line %d: an mbarrier is 8-byte aligned, shared offset %u is not", f->tid, what, line, offset);
    Mbarrier& b = l.mbarriers[offset / 8];
    if (!b.init && std::strcmp(what, "mbarrier.init") != 0) {
        Fail("thread %d: %s on line %d uses the mbarrier at shared offset %u before mbarrier.init (or without a barrier "
             "after it)", f->tid, what, line, offset);
    }
    return b;
}

// A phase completes when its arrivals and transaction bytes are all in; the fibers waiting for it wake.
void CompletePhase(Launch& l, uint32_t offset)
{
    Mbarrier& b = l.mbarriers[offset / 8];
    if (b.pending > 0 || b.tx != 0) return;
    ++b.phase;
    b.pending = b.expected;
    std::vector<Fiber*> wake;
    for (Fiber& f : l.fibers) {
        if (f.state == State::MbarrierWait && f.bar == offset && (b.phase & 1) != f.parity) {
            f.state = State::Runnable;
            wake.push_back(&f);
        }
    }
    Push(l, *l.runnable, std::move(wake));
}

// The hardware's swizzle of a shared address for a swizzle span of 32, 64 or 128 bytes (0: none): the 16-byte chunk
// bits [4, 4 + b) are XORed with bits [7, 7 + b), b = log2(span / 16) - CuTe's Swizzle<b, 4, 3>, the same for TMA
// boxes and wgmma operands, so a tile TMA writes with a span is the tile a descriptor with that span reads.
uint32_t Swizzled(uint32_t address, uint32_t span)
{
    if (span < 32) return address;
    uint32_t mask = span / 16 - 1;
    return address ^ (((address >> 7) & mask) << 4);
}

// Box element (row, e) of a TMA copy: its swizzled shared offset.
uint32_t BoxAddress(const TmaCopy& c, uint32_t row, uint32_t e)
{
    return Swizzled(c.dst + (row * c.map.box[0] + e) * c.map.element, c.map.swizzle);
}

bool BoxInside(const TmaCopy& c, uint32_t row, uint32_t e)
{
    int64_t x = static_cast<int64_t>(c.x) + e, y = static_cast<int64_t>(c.y) + row;
    return x >= 0 && x < c.map.dim[0] && y >= 0 && y < c.map.dim[1];
}

// The copy's data arrives (elements outside the tensor as zeros) and its bytes count against its mbarrier's tx.
void Land(Launch& l, const TmaCopy& c)
{
    for (uint32_t row = 0; row < c.map.box[1]; ++row) {
        for (uint32_t e = 0; e < c.map.box[0]; ++e) {
            uint32_t at = BoxAddress(c, row, e);
            if (BoxInside(c, row, e)) {
                uint64_t source = c.map.address + (static_cast<uint64_t>(c.y) + row) * c.map.stride +
                                  (static_cast<uint64_t>(c.x) + e) * c.map.element;
                std::memcpy(l.shared + at, reinterpret_cast<const void*>(source), c.map.element);
            } else {
                std::memset(l.shared + at, 0, c.map.element);
            }
            for (uint32_t i = 0; i < c.map.element; ++i) {
                l.shadow[at + i].pending = 0;
                l.shadow[at + i].w_epoch = 0;  // ordered by the mbarrier, not by __syncthreads
            }
        }
    }
    l.mbarriers[c.bar / 8].tx -= static_cast<int64_t>(c.map.box[0]) * c.map.box[1] * c.map.element;
    CompletePhase(l, c.bar);
}

// Lands the copies in flight on the mbarrier at `bar` (every copy when bar is ~0u), oldest first.
void LandCopies(Launch& l, uint32_t bar)
{
    std::vector<TmaCopy> landing, staying;
    for (const TmaCopy& c : l.tma) (bar == ~0u || c.bar == bar ? landing : staying).push_back(c);
    l.tma = std::move(staying);
    for (const TmaCopy& c : landing) Land(l, c);
}

// Shared offset of element (row, k), k < 16, of a K-major 16-bit wgmma operand (PTX ISA, "Matrix Descriptor
// Format" and the canonical K-major layouts; CuTe's GMMA Layout_K_{INTER,SW32,SW64,SW128}_Atom): rows of 8 are SBO
// apart; within 8 rows a row takes 16 bytes (no swizzle: the two 8-element halves of k are LBO apart) or the
// swizzle span, k contiguous; then the span's swizzle on the address.
uint32_t DescriptorAddress(uint64_t desc, int row, int k)
{
    uint32_t start = static_cast<uint32_t>(desc & 0x3FFF) << 4;
    uint32_t lbo = static_cast<uint32_t>((desc >> 16) & 0x3FFF) << 4, sbo = static_cast<uint32_t>((desc >> 32) & 0x3FFF) << 4;
    uint32_t mode = static_cast<uint32_t>(desc >> 62);
    uint32_t span = mode == 1 ? 128 : mode == 2 ? 64 : mode == 3 ? 32 : 16;
    uint32_t bytes = 2 * k;
    uint32_t address = start + (row / 8) * sbo + (row % 8) * span + (span == 16 ? (bytes / 16) * lbo + bytes % 16 : bytes);
    return Swizzled(address, span);
}

bool CheckDescriptor(const Launch& l, uint64_t desc, int rows, const char* which, int line)
{
    if ((desc >> 49) & 7) {
        Fail("wgmma.mma_async on line %d: descriptor %s has a base offset (bits 49-51), which the emulator does not model; "
             "align the tile to its swizzle pattern (1024 bytes for 128-byte swizzle)", line, which);
        return false;
    }
    for (int row = 0; row < rows; ++row) {
        for (int k = 0; k < 16; k += 8) {
            if (DescriptorAddress(desc, row, k) + 16 > l.shared_bytes) {
                Fail("wgmma.mma_async on line %d: operand %s row %d lies past the launch's %u bytes of shared memory", line,
                     which, row, l.shared_bytes);
                return false;
            }
        }
    }
    return true;
}

void CountOperandReads(Launch& l, const WgmmaOp& op, int delta)
{
    for (int pass = 0; pass < 2; ++pass) {
        uint64_t desc = pass == 0 ? op.a : op.b;
        int rows = pass == 0 ? 64 : op.n;
        for (int row = 0; row < rows; ++row) {
            for (int k = 0; k < 16; ++k) {
                uint32_t at = DescriptorAddress(desc, row, k);
                l.wgmma_reads[at] = static_cast<uint16_t>(l.wgmma_reads[at] + delta);
                l.wgmma_reads[at + 1] = static_cast<uint16_t>(l.wgmma_reads[at + 1] + delta);
            }
        }
    }
}

// wgmma.mma_async.m64nNk16.f32.{f16,bf16} with both operands K-major in shared memory: D (64 x N) = A (64 x 16) B^T
// (B stored N x 16) + (scale_d ? D : 0). The accumulators follow CuTe's CLayout_64xN (NVIDIA/cutlass,
// include/cute/atom/mma_traits_sm90_gmma.hpp): thread t's value v is row 16 (t / 32) + (t % 32) / 4 + 8 ((v / 2) % 2),
// column 2 (t % 4) + v % 2 + 8 (v / 4). Products and sums in double, rounded once to fp32.
void ExecuteWgmma(Launch& l, const WgmmaOp& op)
{
    ++l.report.wgmma;
    auto operand = [&](uint64_t desc, int row, int k, const char* which) {
        uint32_t at = DescriptorAddress(desc, row, k);
        for (uint32_t i = at; i < at + 2; ++i) {
            if (l.shadow[i].pending) {
                Fail("wgmma.mma_async on line %d reads operand %s at shared offset %u before the %s issued into it by thread "
                     "%d (line %d) has landed: wait on its mbarrier first", op.line, which, i,
                     l.shadow[i].pending == PendingTma ? "TMA copy" : "cp.async", l.shadow[i].w_tid, l.shadow[i].w_line);
                return 0.0;
            }
        }
        uint16_t h = Half(l.shared, at);
        return static_cast<double>(op.bf16 ? Bf16ToFloat(h) : F16ToFloat(h));
    };
    std::vector<double> A(64 * 16), B(static_cast<size_t>(op.n) * 16);
    for (int row = 0; row < 64 && !l.failed; ++row)
        for (int k = 0; k < 16; ++k) A[row * 16 + k] = operand(op.a, row, k, "A");
    for (int row = 0; row < op.n && !l.failed; ++row)
        for (int k = 0; k < 16; ++k) B[row * 16 + k] = operand(op.b, row, k, "B");
    if (l.failed) return;
    for (int t = 0; t < 128; ++t) {
        for (int v = 0; v < op.n / 2; ++v) {
            int row = 16 * (t / 32) + (t % 32) / 4 + 8 * ((v / 2) % 2), col = 2 * (t % 4) + v % 2 + 8 * (v / 4);
            double sum = op.scale_d ? op.d[t][v] : 0.0;
            for (int k = 0; k < 16; ++k) sum += A[row * 16 + k] * B[col * 16 + k];
            op.d[t][v] = static_cast<float>(sum);
        }
    }
    CountOperandReads(l, op, -1);
}

// A lane of warpgroup g has arrived at a warpgroup collective (.sync.aligned over its 128 threads): run it when all have.
void TryWarpgroup(Launch& l, int g, std::vector<Fiber*>& runnable)
{
    if (l.threads % 128 != 0) {
        Fail("warpgroup instructions need whole warpgroups of 128 threads; the block has %d threads", l.threads);
        return;
    }
    Fiber* lanes = &l.fibers[128 * g];
    const Fiber* arrived = nullptr;
    for (int i = 0; i < 128; ++i) {
        if (lanes[i].state == State::Collective && WarpgroupOp(lanes[i].op)) { arrived = &lanes[i]; break; }
    }
    for (int i = 0; i < 128; ++i) {
        const Fiber& f = lanes[i];
        if (f.state == State::Exited || f.state == State::Barrier) {
            Fail("divergent warpgroup: thread %d %s while threads of warpgroup %d wait in %s on line %d", f.tid,
                 f.state == State::Exited ? "exited" : "waits at __syncthreads()", g, OpName(arrived->op), arrived->line);
            return;
        }
        if (f.state != State::Collective) return;  // still on its way
        if (f.op != arrived->op || f.line != arrived->line) {
            Fail("divergent warpgroup %d: thread %d is in %s on line %d, thread %d in %s on line %d", g, arrived->tid,
                 OpName(arrived->op), arrived->line, f.tid, OpName(f.op), f.line);
            return;
        }
        bool same = f.desc_a == arrived->desc_a && f.desc_b == arrived->desc_b && f.n == arrived->n &&
                    f.scale_d == arrived->scale_d && f.count == arrived->count && f.value == arrived->value;
        if (!same) {
            Fail("%s on line %d: threads %d and %d of warpgroup %d give different operands (an .aligned instruction needs "
                 "the same descriptors, shape and immediates in every thread)", OpName(f.op), f.line, arrived->tid, f.tid, g);
            return;
        }
    }
    Warpgroup& wg = l.warpgroups[g];
    switch (arrived->op) {
        case Op::WgmmaFence:
            wg.fenced = true;
            break;
        case Op::Wgmma: {
            if (!wg.fenced) {
                Fail("wgmma.mma_async on line %d without a wgmma.fence since warpgroup %d's last commit: the fence orders "
                     "the accumulator registers before the asynchronous MMA reads them", arrived->line, g);
                return;
            }
            WgmmaOp op{arrived->desc_a, arrived->desc_b, arrived->n, arrived->bf16, arrived->scale_d, arrived->line, {}};
            if (!CheckDescriptor(l, op.a, 64, "A", op.line) || !CheckDescriptor(l, op.b, op.n, "B", op.line)) return;
            for (int i = 0; i < 128; ++i) op.d[i] = lanes[i].d;
            CountOperandReads(l, op, +1);
            wg.open.push_back(op);
            break;
        }
        case Op::WgmmaCommit:
            wg.committed.push_back(std::move(wg.open));
            wg.open.clear();
            wg.fenced = false;
            break;
        case Op::WgmmaWait:
            while (static_cast<int>(wg.committed.size()) > arrived->count) {
                for (const WgmmaOp& op : wg.committed.front()) {
                    ExecuteWgmma(l, op);
                    if (l.failed) return;
                }
                wg.committed.erase(wg.committed.begin());
            }
            break;
        default:  // setmaxnreg: a hint to the register allocator; checked, not modelled
            if (arrived->value % 8 != 0 || arrived->value < 24 || arrived->value > 256) {
                Fail("setmaxnreg on line %d: %d registers; the count must be a multiple of 8 in [24, 256]", arrived->line, arrived->value);
                return;
            }
            break;
    }
    std::vector<Fiber*> wake;
    for (int i = 0; i < 128; ++i) {
        lanes[i].state = State::Runnable;
        wake.push_back(&lanes[i]);
    }
    Push(l, runnable, std::move(wake));
}

// At the end of a block nothing asynchronous may still be in flight.
void CheckDrained(Launch& l)
{
    if (!l.tma.empty()) {
        Fail("the block ended with %zu TMA copies in flight (the first issued by thread %d on line %d): wait on their mbarrier",
             l.tma.size(), l.tma.front().tid, l.tma.front().line);
        return;
    }
    for (size_t g = 0; g < l.warpgroups.size(); ++g) {
        const Warpgroup& wg = l.warpgroups[g];
        if (!wg.open.empty() || !wg.committed.empty()) {
            int line = !wg.open.empty() ? wg.open.front().line : wg.committed.front().front().line;
            Fail("warpgroup %zu ended with wgmma.mma_async operations (line %d) not retired by wgmma.wait_group%s", g, line,
                 wg.open.empty() ? "" : " (and not committed)");
            return;
        }
    }
}

// A lane of warp w has arrived at a collective: run it if every lane it names is there.
void TryCollective(Launch& l, int w, std::vector<Fiber*>& runnable)
{
    Fiber* lanes = &l.fibers[32 * w];
    int count = std::min(32, l.threads - 32 * w);
    const Fiber* arrived = nullptr;
    for (int i = 0; i < count; ++i) {
        if (lanes[i].state == State::Collective) { arrived = &lanes[i]; break; }
    }
    uint32_t needed = arrived->mask;
    if (arrived->op == Op::Ldmatrix || arrived->op == Op::Mma) needed = 0xffffffffu;  // .aligned: the whole warp
    if (count < 32 && (needed >> count) != 0) {
        Fail("warp %d has %d threads but %s on line %d names lanes %s", w, count, OpName(arrived->op), arrived->line,
             Lanes(needed & ~((1u << count) - 1)).c_str());
        return;
    }
    for (int i = 0; i < count; ++i) {
        if (!(needed >> i & 1)) continue;
        const Fiber& f = lanes[i];
        if (f.state == State::Exited) {
            Fail("divergent warp: thread %d exited while lanes of warp %d wait in %s on line %d", f.tid, w,
                 OpName(arrived->op), arrived->line);
            return;
        }
        if (f.state == State::Barrier) {
            Fail("divergent warp: thread %d waits at __syncthreads() on line %d while lanes of warp %d wait in %s on line %d",
                 f.tid, f.line, w, OpName(arrived->op), arrived->line);
            return;
        }
        if (f.state != State::Collective) return;  // still on its way
        if (f.op != arrived->op || f.line != arrived->line || f.mask != arrived->mask) {
            Fail("divergent warp %d: lane %d is in %s on line %d (mask 0x%08x), lane %d in %s on line %d (mask 0x%08x)", w,
                 arrived->lane, OpName(arrived->op), arrived->line, arrived->mask, f.lane, OpName(f.op), f.line, f.mask);
            return;
        }
    }
    switch (arrived->op) {
        case Op::SyncWarp:
            ++l.warp_epoch[w];
            ++l.report.syncwarp;
            break;
        case Op::Shfl:
            ++l.report.shfl;
            for (int i = 0; i < count; ++i) {
                if (!(needed >> i & 1)) continue;
                int source = i ^ lanes[i].lane_mask;
                if (source / lanes[i].width != i / lanes[i].width) source = i;
                if (source >= count || !(needed >> source & 1)) {
                    Fail("thread %d: __shfl_xor_sync on line %d reads lane %d, which is not in its mask 0x%08x",
                         lanes[i].tid, lanes[i].line, source, needed);
                    return;
                }
                lanes[i].result = lanes[source].value;
            }
            break;
        case Op::Ldmatrix:
            ExecuteLdmatrix(l, lanes);
            break;
        case Op::Mma:
            ExecuteMma(l, lanes);
            break;
    }
    std::vector<Fiber*> wake;
    for (int i = 0; i < count; ++i) {
        if (needed >> i & 1) {
            lanes[i].state = State::Runnable;
            wake.push_back(&lanes[i]);
        }
    }
    Push(l, runnable, std::move(wake));
}

void Arrive(Fiber* f, Op op, int line)
{
    f->op = op;
    f->line = line;
    f->state = State::Collective;
    ToScheduler(f);
}

// Why the block cannot go on, when nothing is runnable and not every thread waits at one barrier.
void Stuck(Launch& l, int exited)
{
    int barrier = -1, barrier_line = 0;
    for (const Fiber& f : l.fibers) {
        if (f.state == State::Barrier) {
            if (barrier < 0) { barrier = f.tid; barrier_line = f.line; }
            else if (f.line != barrier_line) {
                Fail("divergent barrier: thread %d waits at __syncthreads() on line %d, thread %d at the one on line %d",
                     barrier, barrier_line, f.tid, f.line);
            }
        }
    }
    for (const Fiber& f : l.fibers) {
        if (f.state == State::Collective) {
            Fail("deadlock: thread %d waits in %s on line %d for lanes of its %s that never arrive", f.tid,
                 OpName(f.op), f.line, WarpgroupOp(f.op) ? "warpgroup" : "warp");
        }
    }
    for (const Fiber& f : l.fibers) {
        if (f.state == State::MbarrierWait) {
            const Mbarrier& b = l.mbarriers[f.bar / 8];
            Fail("deadlock: thread %d waits on line %d for the phase of parity %u of the mbarrier at shared offset %u, which "
                 "is in phase %u (parity %u) with %d of %d arrivals and %lld transaction bytes still to come: a wrong "
                 "parity, or an arrive or a copy that never happens", f.tid, f.line, f.parity, f.bar, b.phase, b.phase & 1,
                 b.pending, b.expected, static_cast<long long>(b.tx));
        }
    }
    if (barrier >= 0 && exited > 0) {
        int gone = -1;
        for (const Fiber& f : l.fibers) {
            if (f.state == State::Exited) { gone = f.tid; break; }
        }
        Fail("divergent barrier: thread %d exited while thread %d (and others) wait at __syncthreads() on line %d",
             gone, barrier, barrier_line);
    }
}

void RunBlock(Launch& l)
{
    std::memset(l.shared, Poison, l.shared_bytes);
    std::memset(l.shadow.data(), 0, l.shadow.size() * sizeof(Shadow));
    std::fill(l.warp_epoch.begin(), l.warp_epoch.end(), 0);
    l.epoch = 1;
    std::fill(l.mbarriers.begin(), l.mbarriers.end(), Mbarrier{});
    std::fill(l.wgmma_reads.begin(), l.wgmma_reads.end(), 0);
    std::fill(l.warpgroups.begin(), l.warpgroups.end(), Warpgroup{});
    l.tma.clear();
    std::vector<Fiber*> runnable;
    l.runnable = &runnable;
    for (Fiber& f : l.fibers) {
        f.state = State::Runnable;
        f.committed.clear();
        f.open.clear();
        f.shared_seq = f.global_seq = f.store_seq = 0;
        StartFiber(l, &f);
        runnable.push_back(&f);
    }
    std::shuffle(runnable.begin(), runnable.end(), l.random);
    int exited = 0, at_barrier = 0;
    size_t next = 0;
    for (;;) {
        while (next < runnable.size()) {
            Fiber* f = runnable[next++];
            Resume(l, f);
            if (l.failed) return;
            if (f->state == State::Exited) ++exited;
            else if (f->state == State::Barrier) ++at_barrier;
            else if (f->state == State::Collective && WarpgroupOp(f->op)) TryWarpgroup(l, f->warp / 4, runnable);
            else if (f->state == State::Collective) TryCollective(l, f->warp, runnable);
            if (l.failed) return;
        }
        runnable.clear();
        next = 0;
        if (exited == l.threads) break;
        if (at_barrier == l.threads) {
            int line = l.fibers[0].line;
            for (const Fiber& f : l.fibers) {
                if (f.line != line) {
                    Fail("divergent barrier: thread 0 waits at __syncthreads() on line %d, thread %d at the one on line %d",
                         line, f.tid, f.line);
                    return;
                }
            }
            ++l.report.barriers;
            FlushRequests(l);
            ++l.epoch;
            at_barrier = 0;
            for (Fiber& f : l.fibers) {
                f.state = State::Runnable;
                runnable.push_back(&f);
            }
            std::shuffle(runnable.begin(), runnable.end(), l.random);
            continue;
        }
        if (!l.tma.empty()) {  // nothing else can run: the copies in flight land, which may complete a phase
            LandCopies(l, ~0u);
            if (l.failed) return;
            if (!runnable.empty()) continue;
        }
        Stuck(l, exited);
        if (!l.failed) Fail("the block stopped with %d threads exited and %d at a barrier", exited, at_barrier);
        return;
    }
    CheckDrained(l);
    FlushRequests(l);
}

}  // namespace

// ---- The kernel's side (declared in kerneldsl_emulation.h).
KD_EXPORT uint3 kd_emu_thread_idx() { return Self("threadIdx")->index; }
KD_EXPORT uint3 kd_emu_block_idx() { Self("blockIdx"); return current->block; }
KD_EXPORT dim3 kd_emu_block_dim()
{
    Self("blockDim");
    return dim3{current->desc->block[0], current->desc->block[1], current->desc->block[2]};
}
KD_EXPORT dim3 kd_emu_grid_dim()
{
    Self("gridDim");
    return dim3{current->desc->grid[0], current->desc->grid[1], current->desc->grid[2]};
}

KD_EXPORT void kd_emu_syncthreads(int line)
{
    Fiber* f = Self("__syncthreads");
    f->line = line;
    f->state = State::Barrier;
    ToScheduler(f);
}

KD_EXPORT void kd_emu_syncwarp(unsigned mask, int line)
{
    Fiber* f = Self("__syncwarp");
    f->mask = mask;
    Arrive(f, Op::SyncWarp, line);
}

KD_EXPORT unsigned kd_emu_shfl_xor(unsigned mask, unsigned value, int lane_mask, int width, int line)
{
    Fiber* f = Self("__shfl_xor_sync");
    if (!(mask >> f->lane & 1)) Fail("thread %d calls __shfl_xor_sync on line %d with a mask 0x%08x that leaves it out", f->tid, line, mask);
    f->mask = mask;
    f->value = value;
    f->lane_mask = lane_mask;
    f->width = width;
    Arrive(f, Op::Shfl, line);
    return f->result;
}

KD_EXPORT void kd_emu_ldmatrix(unsigned* r, int count, int trans, const void* p, int line)
{
    Fiber* f = Self("ldmatrix");
    uint64_t offset = reinterpret_cast<uint64_t>(p) - reinterpret_cast<uint64_t>(current->shared);
    if (offset >= MaxSharedBytes) Fail("thread %d: ldmatrix on line %d reads address %p, which is not shared memory", f->tid, line, p);
    f->regs = r;
    f->count = count;
    f->trans = trans;
    f->addr = static_cast<uint32_t>(offset);
    f->mask = 0xffffffffu;
    Arrive(f, Op::Ldmatrix, line);
}

KD_EXPORT void kd_emu_mma_16x8x16(float* d, const unsigned* a, const unsigned* b, int bf16, int line)
{
    Fiber* f = Self("mma.sync");
    f->d = d;
    f->a = a;
    f->b = b;
    f->bf16 = bf16;
    f->mask = 0xffffffffu;
    Arrive(f, Op::Mma, line);
}

KD_EXPORT void kd_emu_cp_async(void* dst, const void* src, int size, int src_bytes, int line)
{
    Fiber* f = Self("cp.async");
    Launch& l = *current;
    uint64_t offset = reinterpret_cast<uint64_t>(dst) - reinterpret_cast<uint64_t>(l.shared);
    if (offset >= MaxSharedBytes) Fail("thread %d: cp.async on line %d writes %p, which is not shared memory", f->tid, line, dst);
    if (offset % size != 0 || reinterpret_cast<uint64_t>(src) % size != 0) {
        Fail("thread %d: cp.async of %d bytes on line %d is misaligned (shared offset %llu, global address %p)", f->tid,
             size, line, static_cast<unsigned long long>(offset), src);
    }
    if (src_bytes < 0 || src_bytes > size) Fail("thread %d: cp.async on line %d copies %d of %d bytes", f->tid, line, src_bytes, size);
    CheckSharedRange(l, f, offset, size, "cp.async write");
    if (src_bytes > 0) {
        CheckGlobal(l, f, reinterpret_cast<uint64_t>(src), src_bytes, "cp.async read");
        Record(l.global_loads[f->warp], f->global_seq, f->lane, reinterpret_cast<uint64_t>(src), src_bytes);
    }
    SharedWrite(l, f, static_cast<uint32_t>(offset), size, line, true);
    std::memset(l.shared + offset, Poison, size);
    f->open.push_back(Copy{static_cast<uint32_t>(offset), static_cast<const unsigned char*>(src), size, src_bytes});
    ++l.report.cp_async;
    l.report.cp_async_bytes += src_bytes;
}

KD_EXPORT void kd_emu_cp_async_commit()
{
    Fiber* f = Self("cp.async.commit_group");
    f->committed.push_back(std::move(f->open));
    f->open.clear();
}

KD_EXPORT void kd_emu_cp_async_wait(int pending, int line)
{
    Fiber* f = Self("cp.async.wait_group");
    Launch& l = *current;
    while (static_cast<int>(f->committed.size()) > pending) {
        for (const Copy& c : f->committed.front()) {
            std::memcpy(l.shared + c.dst, c.src, c.src_bytes);
            std::memset(l.shared + c.dst + c.src_bytes, 0, c.size - c.src_bytes);
            for (int i = 0; i < c.size; ++i) l.shadow[c.dst + i].pending = 0;
            SharedWrite(l, f, c.dst, c.size, line, false);
        }
        f->committed.erase(f->committed.begin());
    }
}

KD_EXPORT void kd_emu_mbarrier_init(void* bar, unsigned count, int line)
{
    Fiber* f = Self("mbarrier.init");
    uint32_t offset;
    Mbarrier& b = BarrierAt(*current, f, bar, "mbarrier.init", line, offset);
    if (count < 1 || count > (1u << 20) - 1) Fail("thread %d: mbarrier.init on line %d with %u arrivals (1 to 2^20 - 1)", f->tid, line, count);
    b = Mbarrier{true, static_cast<int>(count), static_cast<int>(count), 0, 0};
}

// mbarrier.arrive, with `tx` transaction bytes expected first (mbarrier.arrive.expect_tx) when tx > 0.
KD_EXPORT void kd_emu_mbarrier_arrive(void* bar, unsigned tx, int line)
{
    Fiber* f = Self("mbarrier.arrive");
    uint32_t offset;
    Mbarrier& b = BarrierAt(*current, f, bar, "mbarrier.arrive", line, offset);
    if (b.pending == 0) Fail("thread %d: mbarrier.arrive on line %d: the mbarrier at shared offset %u has no arrival left in its phase", f->tid, line, offset);
    b.tx += tx;
    --b.pending;
    CompletePhase(*current, offset);
}

// mbarrier.try_wait.parity in a loop: returns once the phase of parity `parity` has completed.
KD_EXPORT void kd_emu_mbarrier_wait(void* bar, unsigned parity, int line)
{
    Fiber* f = Self("mbarrier.try_wait");
    Launch& l = *current;
    uint32_t offset;
    Mbarrier& b = BarrierAt(l, f, bar, "mbarrier.try_wait", line, offset);
    ++l.report.mbarrier_waits;
    if ((b.phase & 1) != (parity & 1)) return;
    LandCopies(l, offset);
    if ((b.phase & 1) != (parity & 1)) return;
    f->bar = offset;
    f->parity = parity & 1;
    f->line = line;
    f->state = State::MbarrierWait;
    ToScheduler(f);
}

// cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes: box (x, y) of `map` into `dst`.
KD_EXPORT void kd_emu_tma_load_2d(void* dst, const void* map, int x, int y, void* bar, int line)
{
    Fiber* f = Self("cp.async.bulk.tensor");
    Launch& l = *current;
    uint64_t raw[16];
    std::memcpy(raw, map, sizeof raw);
    if (raw[0] != TensorMapMagic) {
        Fail("thread %d: cp.async.bulk.tensor on line %d: the tensor map was not encoded for the emulator (encode it with "
             "TensorMap.Encode2D on the emulated device)", f->tid, line);
    }
    TmaCopy c{};
    c.map = TensorMapView{raw[1], {static_cast<uint32_t>(raw[2]), static_cast<uint32_t>(raw[2] >> 32)}, raw[3],
                          {static_cast<uint32_t>(raw[4]), static_cast<uint32_t>(raw[4] >> 32)},
                          static_cast<uint32_t>(raw[5] & 0xFFFF), static_cast<uint32_t>(raw[5] >> 16)};
    c.dst = SharedOffset(l, f, dst, "cp.async.bulk.tensor", line);
    BarrierAt(l, f, bar, "cp.async.bulk.tensor", line, c.bar);
    c.x = x;
    c.y = y;
    c.tid = f->tid;
    c.line = line;
    uint32_t alignment = c.map.swizzle >= 32 ? 1024 : 128;
    if (c.dst % alignment != 0) {
        Fail("thread %d: cp.async.bulk.tensor on line %d writes shared offset %u; a %s box needs %u-byte alignment", f->tid,
             line, c.dst, c.map.swizzle >= 32 ? "swizzled" : "TMA", alignment);
    }
    for (uint32_t row = 0; row < c.map.box[1]; ++row) {
        uint32_t first = c.map.box[0], last = 0;
        for (uint32_t e = 0; e < c.map.box[0]; ++e) {
            if (BoxInside(c, row, e)) { first = std::min(first, e); last = e; }
            uint32_t at = BoxAddress(c, row, e);
            CheckSharedRange(l, f, at, static_cast<int>(c.map.element), "TMA copy");
            for (uint32_t i = at; i < at + c.map.element; ++i) {
                Shadow& s = l.shadow[i];
                if (s.pending) {
                    Fail("thread %d: the TMA copy on line %d writes shared offset %u while the %s issued into it by thread "
                         "%d (line %d) has not landed", f->tid, line, i, s.pending == PendingTma ? "TMA copy" : "cp.async",
                         s.w_tid, s.w_line);
                }
                if (l.wgmma_reads[i]) {
                    Fail("thread %d: the TMA copy on line %d overwrites shared offset %u, an operand of a wgmma.mma_async "
                         "still in flight: retire it (wgmma.wait_group) and release the stage through its mbarrier first",
                         f->tid, line, i);
                }
                s.pending = PendingTma;
                s.w_tid = static_cast<uint16_t>(f->tid);
                s.w_line = static_cast<uint16_t>(line);
                l.shared[i] = Poison;
            }
        }
        if (first <= last) {
            uint64_t source = c.map.address + (static_cast<uint64_t>(y) + row) * c.map.stride + (static_cast<uint64_t>(x) + first) * c.map.element;
            int bytes = static_cast<int>((last - first + 1) * c.map.element);
            CheckGlobal(l, f, source, bytes, "TMA read");
            Record(l.global_loads[f->warp], f->global_seq, f->lane, source, bytes);
        }
    }
    l.tma.push_back(c);
    ++l.report.tma;
    l.report.tma_bytes += static_cast<uint64_t>(c.map.box[0]) * c.map.box[1] * c.map.element;
}

// A warpgroup collective without operands: the fields the others compare are cleared, so all 128 threads agree.
static void ArriveWithoutOperands(const char* what, Op op, int line)
{
    Fiber* f = Self(what);
    f->desc_a = f->desc_b = 0;
    f->n = f->scale_d = f->count = 0;
    f->value = 0;
    Arrive(f, op, line);
}

KD_EXPORT void kd_emu_wgmma_fence(int line) { ArriveWithoutOperands("wgmma.fence", Op::WgmmaFence, line); }

KD_EXPORT void kd_emu_wgmma(float* d, unsigned long long a, unsigned long long b, int n, int bf16, int scale_d, int line)
{
    Fiber* f = Self("wgmma.mma_async");
    if (n < 8 || n > 256 || n % 8 != 0) Fail("thread %d: wgmma.mma_async on line %d with N = %d (8 to 256, a multiple of 8)", f->tid, line, n);
    f->d = d;
    f->desc_a = a;
    f->desc_b = b;
    f->n = n;
    f->bf16 = bf16;
    f->scale_d = scale_d != 0;
    f->count = 0;
    f->value = 0;
    Arrive(f, Op::Wgmma, line);
}

KD_EXPORT void kd_emu_wgmma_commit(int line) { ArriveWithoutOperands("wgmma.commit_group", Op::WgmmaCommit, line); }

KD_EXPORT void kd_emu_wgmma_wait(int pending, int line)
{
    Fiber* f = Self("wgmma.wait_group");
    f->desc_a = f->desc_b = 0;
    f->n = f->scale_d = 0;
    f->count = pending;
    f->value = 0;
    Arrive(f, Op::WgmmaWait, line);
}

KD_EXPORT void kd_emu_setmaxnreg(int registers, int line)
{
    Fiber* f = Self("setmaxnreg");
    f->desc_a = f->desc_b = 0;
    f->n = f->scale_d = f->count = 0;
    f->value = static_cast<unsigned>(registers);
    Arrive(f, Op::Setmaxnreg, line);
}

// Conversions with the hardware's rounding: to nearest even; NaN stays NaN (canonical quiet NaN).
KD_EXPORT unsigned short kd_emu_float_to_bf16(float x)
{
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FFF;
    bits += 0x7FFFu + ((bits >> 16) & 1);
    return static_cast<unsigned short>(bits >> 16);
}

KD_EXPORT unsigned short kd_emu_float_to_f16(float x)
{
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    uint32_t sign = (bits >> 16) & 0x8000u, magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return static_cast<unsigned short>(sign | 0x7FFF);
    if (magnitude >= 0x477FF000u) return static_cast<unsigned short>(sign | 0x7C00);  // rounds to infinity
    if (magnitude < 0x38800000u) {                                                    // subnormal or zero in fp16
        float a;
        std::memcpy(&a, &magnitude, 4);
        return static_cast<unsigned short>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
    }
    uint32_t rounded = magnitude + 0xFFFu + ((magnitude >> 13) & 1);
    return static_cast<unsigned short>(sign | ((rounded - 0x38000000u) >> 13));
}

KD_EXPORT float kd_emu_f16_to_float(unsigned short h) { return F16ToFloat(h); }

// ex2.approx.ftz.f32: exp2 in fp32 (the hardware's is within 2 ulp); subnormal results flush to zero.
KD_EXPORT float kd_emu_ex2_approx(float x)
{
    if (current != nullptr) ++current->report.ex2;
    float y = exp2f(x);
    return std::fpclassify(y) == FP_SUBNORMAL ? 0.0f : y;
}

// ---- The launch (called from C#).
KD_EXPORT int kd_emu_launch(const kd_emu_launch_desc* desc, kd_emu_report* report, char* error, int capacity)
{
    Launch l;
    l.desc = desc;
    l.threads = static_cast<int>(desc->block[0] * desc->block[1] * desc->block[2]);
    l.warps = (l.threads + 31) / 32;
    l.shared = desc->shared();
    l.shared_bytes = desc->shared_bytes;
    l.shadow.resize(std::max<uint32_t>(desc->shared_bytes, 1));
    l.buffers.assign(desc->buffers, desc->buffers + desc->buffer_count);
    std::sort(l.buffers.begin(), l.buffers.end(), [](const kd_emu_buffer& a, const kd_emu_buffer& b) { return a.base < b.base; });
    l.warp_epoch.resize(l.warps);
    l.mbarriers.resize(desc->shared_bytes / 8 + 1);
    l.wgmma_reads.resize(std::max<uint32_t>(desc->shared_bytes, 1));
    l.warpgroups.resize(l.threads / 128 + 1);
    l.shared_requests.resize(l.warps);
    l.global_loads.resize(l.warps);
    l.global_stores.resize(l.warps);
    l.random.seed(desc->seed);
    l.stacks_bytes = StackBytes * l.threads;
    void* stacks = mmap(nullptr, l.stacks_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stacks == MAP_FAILED) {
        snprintf(error, capacity, "%s: could not map %zu bytes of fiber stacks", desc->kernel, l.stacks_bytes);
        return 1;
    }
    l.stacks = static_cast<unsigned char*>(stacks);
    l.fibers.resize(l.threads);
#if !defined(__x86_64__)
    l.contexts.resize(l.threads);
#endif
    for (int t = 0; t < l.threads; ++t) {
        Fiber& f = l.fibers[t];
        unsigned char* base = l.stacks + StackBytes * t;
        mprotect(base + StackBytes - GuardBytes, GuardBytes, PROT_NONE);  // an overflow faults, it does not corrupt
        f.stack = base;
        f.tid = t;
        f.warp = t / 32;
        f.lane = t % 32;
        f.index = uint3{t % desc->block[0], t / desc->block[0] % desc->block[1], t / (desc->block[0] * desc->block[1])};
    }
    // Stacks grow down from StackBytes - GuardBytes; the guard page sits above so the frame copy never
    // touches it, and an overflow runs into the neighbouring fiber's guard.
    std::vector<uint3> blocks;
    for (unsigned z = 0; z < desc->grid[2]; ++z)
        for (unsigned y = 0; y < desc->grid[1]; ++y)
            for (unsigned x = 0; x < desc->grid[0]; ++x) blocks.push_back(uint3{x, y, z});
    std::shuffle(blocks.begin(), blocks.end(), l.random);
    Launch* outer = current;
    current = &l;
    for (const uint3& b : blocks) {
        l.block = b;
        RunBlock(l);
        ++l.report.blocks;
        if (l.failed) break;
    }
    current = outer;
    munmap(l.stacks, l.stacks_bytes);
    l.report.threads = static_cast<uint64_t>(l.threads) * l.report.blocks;
    *report = l.report;
    if (l.failed) {
        snprintf(error, capacity, "%s", l.error.c_str());
        return 1;
    }
    return 0;
}

// ---- ThreadSanitizer's instrumentation calls, answered by the checks above.
#define KD_TSAN_SIZES(X) X(1) X(2) X(4) X(8) X(16)
#define KD_TSAN_ACCESS(n)                                                            \
    KD_EXPORT void __tsan_read##n(void* p) { Access(p, n, false, true); }            \
    KD_EXPORT void __tsan_write##n(void* p) { Access(p, n, true, true); }            \
    KD_EXPORT void __tsan_unaligned_read##n(void* p) { Access(p, n, false, false); } \
    KD_EXPORT void __tsan_unaligned_write##n(void* p) { Access(p, n, true, false); } \
    KD_EXPORT void __tsan_volatile_read##n(void* p) { Access(p, n, false, true); }   \
    KD_EXPORT void __tsan_volatile_write##n(void* p) { Access(p, n, true, true); }
KD_TSAN_SIZES(KD_TSAN_ACCESS)
KD_EXPORT void __tsan_read_range(void* p, unsigned long size)
{
    for (unsigned long i = 0; i < size; i += 16) Access(static_cast<char*>(p) + i, static_cast<int>(std::min(16ul, size - i)), false, false);
}
KD_EXPORT void __tsan_write_range(void* p, unsigned long size)
{
    for (unsigned long i = 0; i < size; i += 16) Access(static_cast<char*>(p) + i, static_cast<int>(std::min(16ul, size - i)), true, false);
}
KD_EXPORT void* __tsan_memcpy(void* dst, const void* src, unsigned long size)
{
    __tsan_read_range(const_cast<void*>(src), size);
    __tsan_write_range(dst, size);
    return std::memcpy(dst, src, size);
}
KD_EXPORT void* __tsan_memmove(void* dst, const void* src, unsigned long size)
{
    __tsan_read_range(const_cast<void*>(src), size);
    __tsan_write_range(dst, size);
    return std::memmove(dst, src, size);
}
KD_EXPORT void* __tsan_memset(void* dst, int value, unsigned long size)
{
    __tsan_write_range(dst, size);
    return std::memset(dst, value, size);
}
KD_EXPORT void __tsan_init() {}
KD_EXPORT void __tsan_func_entry(void*) {}
KD_EXPORT void __tsan_func_exit() {}
KD_EXPORT void __tsan_vptr_update(void**, void*) {}
KD_EXPORT void __tsan_vptr_read(void**) {}
