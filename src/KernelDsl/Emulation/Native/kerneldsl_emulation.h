// KernelDsl emulator: the CUDA surface a generated kernel sees when it is compiled for the CPU.
//
// The emulator compiles a kernel's CUDA C text with the machine's C++ compiler and -DKERNELDSL_EMULATION,
// with this header included first. The kernel's PTX prelude (#ifndef KERNELDSL_EMULATION) drops out and
// the helpers below take its names; the engine (kerneldsl_emulator.cpp) runs every CUDA thread as a fiber
// and does what the hardware does for barriers, warp collectives and asynchronous copies.
//
// Memory checks need no help from the kernel text: the kernel is compiled with -fsanitize=thread but
// linked without the ThreadSanitizer runtime, so every load and store the compiler keeps in memory calls
// the engine's __tsan_read/__tsan_write hooks, which check shared memory for races and unfinished
// cp.async copies and global memory against the launch's buffers.
#pragma once

#include <math.h>  // expf, fmaxf, ... in the global namespace, as CUDA has them
#include <cstdint>
#include <cstring>
#include <utility>
#include <type_traits>

// ---- CUDA keywords
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))
// A block's threads run one block at a time on the launching OS thread, so block-shared memory is that
// thread's. The runtime rewrites each `extern __shared__ T name[];` (dynamic shared memory) into a pointer to
// kd_emu_shared_memory below; a static __shared__ array would live outside it and fail the memory checks.
#define __shared__ thread_local

// The most shared memory one block may use (sm_90's opt-in limit, 227 KiB).
#define KD_EMU_MAX_SHARED_BYTES 232448

struct dim3 { unsigned x, y, z; };
struct uint3 { unsigned x, y, z; };
struct __align__(8) float2 { float x, y; };
struct __align__(16) float4 { float x, y, z, w; };
struct __align__(8) uint2 { unsigned x, y; };
struct __align__(16) uint4 { unsigned x, y, z, w; };
struct __align__(8) int2 { int x, y; };
struct __align__(16) int4 { int x, y, z, w; };

static inline float2 make_float2(float x, float y) { return float2{x, y}; }
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
static inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }

extern "C" {
// The engine's side (kerneldsl_emulator.cpp). `line` is the kernel source line of the call, for errors.
uint3 kd_emu_thread_idx();
uint3 kd_emu_block_idx();
dim3 kd_emu_block_dim();
dim3 kd_emu_grid_dim();
void kd_emu_syncthreads(int line);
void kd_emu_syncwarp(unsigned mask, int line);
unsigned kd_emu_shfl_xor(unsigned mask, unsigned value, int lane_mask, int width, int line);
void kd_emu_cp_async(void* dst, const void* src, int size, int src_bytes, int line);
void kd_emu_cp_async_commit();
void kd_emu_cp_async_wait(int pending, int line);
void kd_emu_ldmatrix(unsigned* r, int count, int trans, const void* p, int line);
void kd_emu_mma_16x8x16(float* d, const unsigned* a, const unsigned* b, int bf16, int line);
unsigned short kd_emu_float_to_f16(float x);
float kd_emu_f16_to_float(unsigned short h);
unsigned short kd_emu_float_to_bf16(float x);
float kd_emu_ex2_approx(float x);
void kd_emu_mbarrier_init(void* bar, unsigned count, int line);
void kd_emu_mbarrier_arrive(void* bar, unsigned tx, int line);
void kd_emu_mbarrier_wait(void* bar, unsigned parity, int line);
void kd_emu_tma_load_2d(void* dst, const void* map, int x, int y, void* bar, int line);
void kd_emu_wgmma_fence(int line);
void kd_emu_wgmma(float* d, unsigned long long a, unsigned long long b, int n, int bf16, int scale_d, int line);
void kd_emu_wgmma_commit(int line);
void kd_emu_wgmma_wait(int pending, int line);
void kd_emu_setmaxnreg(int registers, int line);
}

#define threadIdx (kd_emu_thread_idx())
#define blockIdx (kd_emu_block_idx())
#define blockDim (kd_emu_block_dim())
#define gridDim (kd_emu_grid_dim())
#define warpSize 32

alignas(128) thread_local unsigned char kd_emu_shared_memory[KD_EMU_MAX_SHARED_BYTES];

#define __syncthreads() kd_emu_syncthreads(__LINE__)
#define __syncwarp(...) kd_emu_syncwarp(kd_emu_mask(__VA_ARGS__), __LINE__)
static inline unsigned kd_emu_mask(unsigned mask = 0xffffffffu) { return mask; }

// ---- Math and bit casts CUDA provides on the device
static inline float __int_as_float(int x) { float f; std::memcpy(&f, &x, 4); return f; }
static inline float __uint_as_float(unsigned x) { float f; std::memcpy(&f, &x, 4); return f; }
static inline int __float_as_int(float f) { int x; std::memcpy(&x, &f, 4); return x; }
static inline unsigned __float_as_uint(float f) { unsigned x; std::memcpy(&x, &f, 4); return x; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
static inline long long min(long long a, long long b) { return a < b ? a : b; }
static inline long long max(long long a, long long b) { return a > b ? a : b; }
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }

static inline float __shfl_xor_sync_impl(unsigned mask, float v, int lane_mask, int width, int line)
{
    return __uint_as_float(kd_emu_shfl_xor(mask, __float_as_uint(v), lane_mask, width, line));
}
static inline int __shfl_xor_sync_impl(unsigned mask, int v, int lane_mask, int width, int line)
{
    return static_cast<int>(kd_emu_shfl_xor(mask, static_cast<unsigned>(v), lane_mask, width, line));
}
static inline unsigned __shfl_xor_sync_impl(unsigned mask, unsigned v, int lane_mask, int width, int line)
{
    return kd_emu_shfl_xor(mask, v, lane_mask, width, line);
}
#define __shfl_xor_sync(mask, v, lane_mask, ...) __shfl_xor_sync_impl(mask, v, lane_mask, kd_emu_width(__VA_ARGS__), __LINE__)
static inline int kd_emu_width(int width = 32) { return width; }

// ---- Atomics: the blocks of a launch run one after another and a block's threads are fibers on one OS thread, so a
// read-modify-write is never interleaved with another thread's.
static inline float atomicAdd(float* address, float value) { const float old = *address; *address = old + value; return old; }

// ---- The PTX prelude's names (PtxPrelude.cs), with the semantics of the instructions they wrap
#define copy_async_4(dst, src, src_bytes) kd_emu_cp_async(dst, src, 4, src_bytes, __LINE__)
#define copy_async_16(dst, src, src_bytes) kd_emu_cp_async(dst, src, 16, src_bytes, __LINE__)
static inline void copy_async_commit() { kd_emu_cp_async_commit(); }
#define copy_async_wait kd_emu_copy_async_wait_at<__LINE__>::wait
template <int line> struct kd_emu_copy_async_wait_at {
    template <int pending> static void wait() { kd_emu_cp_async_wait(pending, line); }
};
static inline unsigned shared_address(const void* p)
{
    return static_cast<unsigned>(static_cast<const unsigned char*>(p) - kd_emu_shared_memory);
}
#define ldmatrix_x1(r, p) kd_emu_ldmatrix(r, 1, 0, p, __LINE__)
#define ldmatrix_x2(r, p) kd_emu_ldmatrix(r, 2, 0, p, __LINE__)
#define ldmatrix_x4(r, p) kd_emu_ldmatrix(r, 4, 0, p, __LINE__)
#define ldmatrix_x1_trans(r, p) kd_emu_ldmatrix(r, 1, 1, p, __LINE__)
#define ldmatrix_x2_trans(r, p) kd_emu_ldmatrix(r, 2, 1, p, __LINE__)
#define ldmatrix_x4_trans(r, p) kd_emu_ldmatrix(r, 4, 1, p, __LINE__)
#define mma_16x8x16_f16(d, a, b) kd_emu_mma_16x8x16(d, a, b, 0, __LINE__)
#define mma_16x8x16_bf16(d, a, b) kd_emu_mma_16x8x16(d, a, b, 1, __LINE__)
static inline unsigned pack_f16x2(float lo, float hi)
{
    return static_cast<unsigned>(kd_emu_float_to_f16(lo)) | (static_cast<unsigned>(kd_emu_float_to_f16(hi)) << 16);
}
static inline unsigned pack_bf16x2(float lo, float hi)
{
    return static_cast<unsigned>(kd_emu_float_to_bf16(lo)) | (static_cast<unsigned>(kd_emu_float_to_bf16(hi)) << 16);
}
static inline float f16_to_float(unsigned short h) { return kd_emu_f16_to_float(h); }
static inline unsigned short float_to_f16(float x) { return kd_emu_float_to_f16(x); }
static inline unsigned short float_to_bf16(float x) { return kd_emu_float_to_bf16(x); }
static inline float ex2_approx(float x) { return kd_emu_ex2_approx(x); }

// ---- sm_90a: mbarriers, TMA, warpgroup MMA (the engine models them; see kerneldsl_emulator.cpp)
struct __align__(64) tensor_map { unsigned long long opaque[16]; };
#define mbarrier_init(bar, count) kd_emu_mbarrier_init(bar, count, __LINE__)
#define mbarrier_init_fence() ((void)0)  // orders mbarrier.init before the async proxy uses it; nothing to order here
#define mbarrier_arrive(bar) kd_emu_mbarrier_arrive(bar, 0, __LINE__)
#define mbarrier_arrive_expect_tx(bar, bytes) kd_emu_mbarrier_arrive(bar, bytes, __LINE__)
#define mbarrier_wait(bar, parity) kd_emu_mbarrier_wait(bar, parity, __LINE__)
#define tma_load_2d(dst, map, x, y, bar) kd_emu_tma_load_2d(dst, map, x, y, bar, __LINE__)
#define wgmma_fence() kd_emu_wgmma_fence(__LINE__)
template <int n> static inline void wgmma_fence_accumulators(float (&)[n]) {}  // a compiler barrier on the GPU
#define wgmma_commit() kd_emu_wgmma_commit(__LINE__)
#define wgmma_wait kd_emu_warpgroup_at<__LINE__>::wait
#define setmaxnreg_inc kd_emu_warpgroup_at<__LINE__>::setmaxnreg
#define setmaxnreg_dec kd_emu_warpgroup_at<__LINE__>::setmaxnreg
#define wgmma_f16 kd_emu_warpgroup_at<__LINE__>::f16
#define wgmma_bf16 kd_emu_warpgroup_at<__LINE__>::bf16
template <int line> struct kd_emu_warpgroup_at {
    template <int pending> static void wait() { kd_emu_wgmma_wait(pending, line); }
    template <int registers> static void setmaxnreg() { kd_emu_setmaxnreg(registers, line); }
    template <int n> static void f16(float (&d)[n / 2], unsigned long long a, unsigned long long b, int scale_d)
    {
        kd_emu_wgmma(d, a, b, n, 0, scale_d, line);
    }
    template <int n> static void bf16(float (&d)[n / 2], unsigned long long a, unsigned long long b, int scale_d)
    {
        kd_emu_wgmma(d, a, b, n, 1, scale_d, line);
    }
};

// ---- Entry points: the engine calls kd_emu_entry_<name>(args) on each thread's fiber with cuLaunchKernel's
// void** (one pointer per parameter); kd_emu_shared_<name>() gives it this OS thread's shared memory. The
// runtime reads the parameters' count, which of them are pointers (bit i set) and their names (comma-separated,
// passed in by the runtime from the kernel's signature), to label the buffers a launch may touch.
namespace kd_emu {
template <typename... P, std::size_t... I>
__attribute__((no_sanitize_thread)) void invoke(void (*kernel)(P...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<std::remove_reference_t<P>*>(args[I])...);
}
template <typename... P> constexpr std::size_t arity(void (*)(P...)) { return sizeof...(P); }
template <typename... P> constexpr unsigned long long pointers(void (*)(P...))
{
    unsigned long long mask = 0;
    int i = 0;
    ((mask |= (std::is_pointer<P>::value ? 1ull << i : 0ull), ++i), ...);
    return mask;
}
}  // namespace kd_emu

#define KD_EMU_EXPORT extern "C" __attribute__((visibility("default"), no_sanitize_thread))
#define KD_EMU_ENTRY(name, parameter_names)                                                                   \
    KD_EMU_EXPORT void kd_emu_entry_##name(void** args)                                                      \
    {                                                                                                        \
        kd_emu::invoke(name, args, std::make_index_sequence<kd_emu::arity(name)>{});                         \
    }                                                                                                        \
    KD_EMU_EXPORT unsigned char* kd_emu_shared_##name() { return kd_emu_shared_memory; }                           \
    KD_EMU_EXPORT int kd_emu_arity_##name() { return static_cast<int>(kd_emu::arity(name)); }                \
    KD_EMU_EXPORT unsigned long long kd_emu_pointers_##name() { return kd_emu::pointers(name); }             \
    KD_EMU_EXPORT const char* kd_emu_parameters_##name() { return parameter_names; }
