using System;
using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>Groups of <see cref="PtxPrelude"/> helpers; a kernel's prelude holds the groups it calls.</summary>
[Flags]
internal enum PtxHelpers
{
    None = 0,

    /// <summary><c>shared_address</c>, <c>copy_async_4/16</c>, <c>copy_async_commit</c>, <c>copy_async_wait&lt;n&gt;</c>.</summary>
    AsyncCopy = 1,

    /// <summary><c>ldmatrix_x4</c> and <c>ldmatrix_x4_trans</c>.</summary>
    Ldmatrix = 2,

    /// <summary><c>mma_16x8x16_f16</c> and <c>pack_f16x2</c>.</summary>
    MmaF16 = 4,

    /// <summary><c>mma_16x8x16_bf16</c> and <c>pack_bf16x2</c>.</summary>
    MmaBF16 = 8,

    /// <summary><c>f16_to_float</c>, <c>float_to_f16</c>.</summary>
    F16Conversions = 16,

    /// <summary><c>float_to_bf16</c> (bf16 → fp32 is a shift and needs no PTX).</summary>
    BF16Conversions = 32,

    /// <summary><c>ex2_approx</c>.</summary>
    Exp2 = 64,

    /// <summary>sm_90: <c>mbarrier_init</c>, <c>mbarrier_init_fence</c>, <c>mbarrier_arrive</c>, <c>mbarrier_arrive_expect_tx</c>, <c>mbarrier_wait</c> (needs <see cref="AsyncCopy"/>).</summary>
    Mbarrier = 128,

    /// <summary>sm_90: <c>tensor_map</c> and <c>tma_load_2d</c> (needs <see cref="AsyncCopy"/>).</summary>
    Tma = 256,

    /// <summary>
    /// sm_90a: <c>wgmma_fence</c>, <c>wgmma_commit</c>, <c>wgmma_wait&lt;n&gt;</c>, <c>wgmma_fence_accumulators&lt;n&gt;</c>,
    /// <c>setmaxnreg_inc/dec&lt;n&gt;</c>, <c>wgmma_descriptor</c> (plain C, also built for the emulator) and
    /// <c>wgmma_f16/bf16&lt;N&gt;</c> for the shapes given to <see cref="PtxPrelude.Emit"/> (needs <see cref="AsyncCopy"/>).
    /// </summary>
    Wgmma = 512,
}

/// <summary>
/// Every inline-PTX helper a generated kernel may call, in one table with fixed names. A kernel prints
/// the groups it uses as one block guarded by <c>#ifndef KERNELDSL_EMULATION</c>; kernel bodies hold no
/// <c>asm</c>. The emulator (<c>src/KernelDsl/Emulation/Native/kerneldsl_emulation.h</c>) defines the same
/// names with CUDA's semantics, so the rest of the kernel text runs unchanged on the CPU.
/// </summary>
internal static class PtxPrelude
{
    public const string Guard = "KERNELDSL_EMULATION";

    /// <summary>The table: each helper's group and CUDA text.</summary>
    public static readonly (PtxHelpers Group, string Name, string Text)[] Helpers =
    [
        (PtxHelpers.AsyncCopy, "shared_address", """
            __device__ __forceinline__ unsigned shared_address(const void* p)
            {
                return static_cast<unsigned>(__cvta_generic_to_shared(p));
            }
            """),
        (PtxHelpers.AsyncCopy, "copy_async_4", """
            // Asynchronous global -> shared copies (sm_80). src_bytes below the copy size zero-fills the rest,
            // which is how out-of-range elements become zeros without a branch around the copy.
            __device__ __forceinline__ void copy_async_4(void* dst, const void* src, int src_bytes)
            {
                asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes));
            }
            """),
        (PtxHelpers.AsyncCopy, "copy_async_16", """
            __device__ __forceinline__ void copy_async_16(void* dst, const void* src, int src_bytes)
            {
                asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes));
            }
            """),
        (PtxHelpers.AsyncCopy, "copy_async_commit", """
            __device__ __forceinline__ void copy_async_commit()
            {
                asm volatile("cp.async.commit_group;\n" ::);
            }
            """),
        (PtxHelpers.AsyncCopy, "copy_async_wait", """
            // Wait until at most `pending` committed groups are still in flight.
            template <int pending>
            __device__ __forceinline__ void copy_async_wait()
            {
                asm volatile("cp.async.wait_group %0;\n" :: "n"(pending));
            }
            """),
        (PtxHelpers.Ldmatrix, "ldmatrix_x4", Ldmatrix(trans: false)),
        (PtxHelpers.Ldmatrix, "ldmatrix_x4_trans", Ldmatrix(trans: true)),
        (PtxHelpers.MmaF16, "mma_16x8x16_f16", Mma("f16")),
        (PtxHelpers.MmaF16, "pack_f16x2", Pack("f16x2")),
        (PtxHelpers.MmaBF16, "mma_16x8x16_bf16", Mma("bf16")),
        (PtxHelpers.MmaBF16, "pack_bf16x2", Pack("bf16x2")),
        (PtxHelpers.F16Conversions, "f16_to_float", """
            __device__ __forceinline__ float f16_to_float(unsigned short h) { float x; asm("cvt.f32.f16 %0, %1;" : "=f"(x) : "h"(h)); return x; }
            """),
        (PtxHelpers.F16Conversions, "float_to_f16", """
            __device__ __forceinline__ unsigned short float_to_f16(float x) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }
            """),
        (PtxHelpers.BF16Conversions, "float_to_bf16", """
            __device__ __forceinline__ unsigned short float_to_bf16(float x) { unsigned short h; asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }
            """),
        (PtxHelpers.Exp2, "ex2_approx", """
            // 2^x on the SFU (about 2 ulp; subnormal results flush to 0); ex2(-inf) = 0.
            __device__ __forceinline__ float ex2_approx(float x) { float y; asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
            """),
        (PtxHelpers.Mbarrier, "mbarrier_init", """
            // mbarriers (sm_90): a phase completes when `count` threads have arrived and every transaction byte an
            // arrive announced (expect_tx) has landed; waiters name the phase by its parity.
            __device__ __forceinline__ void mbarrier_init(unsigned long long* bar, unsigned count)
            {
                asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" :: "r"(shared_address(bar)), "r"(count) : "memory");
            }
            """),
        (PtxHelpers.Mbarrier, "mbarrier_init_fence", """
            // Makes initialised mbarriers visible to the TMA unit (the async proxy) before any copy completes on them.
            __device__ __forceinline__ void mbarrier_init_fence()
            {
                asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
            }
            """),
        (PtxHelpers.Mbarrier, "mbarrier_arrive", """
            __device__ __forceinline__ void mbarrier_arrive(unsigned long long* bar)
            {
                asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.shared::cta.b64 state, [%0];\n}\n" :: "r"(shared_address(bar)) : "memory");
            }
            """),
        (PtxHelpers.Mbarrier, "mbarrier_arrive_expect_tx", """
            // Announces `bytes` transaction bytes (the TMA copies this phase waits for), then arrives.
            __device__ __forceinline__ void mbarrier_arrive_expect_tx(unsigned long long* bar, unsigned bytes)
            {
                asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n}\n"
                             :: "r"(shared_address(bar)), "r"(bytes) : "memory");
            }
            """),
        (PtxHelpers.Mbarrier, "mbarrier_wait", """
            // Returns once the phase of parity `parity` has completed (try_wait suspends the thread for a while, then retries).
            __device__ __forceinline__ void mbarrier_wait(unsigned long long* bar, unsigned parity)
            {
                asm volatile("{\n.reg .pred done;\nretry:\nmbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n@!done bra retry;\n}\n"
                             :: "r"(shared_address(bar)), "r"(parity) : "memory");
            }
            """),
        (PtxHelpers.Tma, "tensor_map", """
            // A CUtensorMap: encoded on the host (cuTensorMapEncodeTiled), passed as a __grid_constant__ parameter.
            struct __align__(64) tensor_map { unsigned long long opaque[16]; };
            """),
        (PtxHelpers.Tma, "tma_load_2d", """
            // TMA: the box of `map` whose first element is (x, y), x along the contiguous dimension, into shared `dst`
            // (elements outside the tensor arrive as zeros); its bytes complete on the mbarrier `bar`.
            __device__ __forceinline__ void tma_load_2d(void* dst, const tensor_map* map, int x, int y, unsigned long long* bar)
            {
                asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
                             :: "r"(shared_address(dst)), "l"(reinterpret_cast<unsigned long long>(map)), "r"(x), "r"(y), "r"(shared_address(bar))
                             : "memory");
            }
            """),
        (PtxHelpers.Wgmma, "wgmma_fence", """
            // Warpgroup MMA (sm_90a). The fence orders the accumulator registers before the asynchronous MMAs that use them;
            // commit closes a group of MMAs; wait returns when at most `pending` groups are still in flight.
            __device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
            """),
        (PtxHelpers.Wgmma, "wgmma_commit", """
            __device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
            """),
        (PtxHelpers.Wgmma, "wgmma_wait", """
            template <int pending>
            __device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(pending) : "memory"); }
            """),
        (PtxHelpers.Wgmma, "wgmma_fence_accumulators", """
            // Keeps the compiler from moving accumulator reads or writes across a wgmma_wait: the registers are written
            // asynchronously, which the compiler cannot see.
            template <int n>
            __device__ __forceinline__ void wgmma_fence_accumulators(float (&d)[n])
            {
                #pragma unroll
                for (int i = 0; i < n; ++i) asm volatile("" : "+f"(d[i]) :: "memory");
            }
            """),
        (PtxHelpers.Wgmma, "setmaxnreg_inc", """
            // Moves registers between warpgroups: consumers take more (inc), producers give theirs up (dec).
            template <int registers>
            __device__ __forceinline__ void setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" :: "n"(registers)); }
            """),
        (PtxHelpers.Wgmma, "setmaxnreg_dec", """
            template <int registers>
            __device__ __forceinline__ void setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" :: "n"(registers)); }
            """),
    ];

    /// <summary>Helpers in plain CUDA C, printed after the guarded block so the emulator builds the same text.</summary>
    public static readonly (PtxHelpers Group, string Name, string Text)[] PortableHelpers =
    [
        (PtxHelpers.Wgmma, "wgmma_descriptor", """
            // A wgmma shared-memory matrix descriptor (PTX ISA, "Matrix Descriptor Format"): start address, leading and
            // stride byte offsets in 16-byte units (bits 0-13, 16-29, 32-45), base offset 0 (bits 49-51: the tile is
            // aligned to its swizzle pattern) and the swizzle mode in bits 62-63 (0 none, 1 128 B, 2 64 B, 3 32 B).
            __device__ __forceinline__ unsigned long long wgmma_descriptor(const void* tile, unsigned leading_bytes, unsigned stride_bytes, unsigned swizzle_mode)
            {
                return static_cast<unsigned long long>((shared_address(tile) & 0x3FFFF) >> 4)
                     | static_cast<unsigned long long>((leading_bytes & 0x3FFFF) >> 4) << 16
                     | static_cast<unsigned long long>((stride_bytes & 0x3FFFF) >> 4) << 32
                     | static_cast<unsigned long long>(swizzle_mode & 3) << 62;
            }
            """),
    ];

    /// <summary>The helper groups a kernel on 16-bit <paramref name="element"/> operands needs for the tensor-core path.</summary>
    public static PtxHelpers TensorCores(Element element)
        => PtxHelpers.Ldmatrix | (element == Element.BF16 ? PtxHelpers.MmaBF16 : PtxHelpers.MmaF16);

    /// <summary>The conversion group of <paramref name="element"/>; none for F32.</summary>
    public static PtxHelpers Conversions(Element element) => element switch
    {
        Element.F16 => PtxHelpers.F16Conversions,
        Element.BF16 => PtxHelpers.BF16Conversions,
        _ => PtxHelpers.None,
    };

    /// <summary>The name of the mma.sync helper for <paramref name="element"/> operands.</summary>
    public static string MmaName(Element element) => element == Element.BF16 ? "mma_16x8x16_bf16" : "mma_16x8x16_f16";

    /// <summary>The name of the fp32-pair → 16-bit-pair helper for <paramref name="element"/>.</summary>
    public static string PackName(Element element) => element == Element.BF16 ? "pack_bf16x2" : "pack_f16x2";

    /// <summary>
    /// Prints the helpers of <paramref name="groups"/>, in table order, as the one guarded prelude block, then the portable
    /// ones; <paramref name="wgmmaShapes"/> (operand element, N) name the <c>wgmma_f16/bf16&lt;N&gt;</c> specialisations to print.
    /// </summary>
    public static void Emit(CodeWriter w, PtxHelpers groups, params (Element Element, int N)[] wgmmaShapes)
    {
        w.Line("// ---- PTX prelude: the inline-PTX helpers this kernel calls (fixed names). Built with");
        w.Line($"// ---- -D{Guard}, the KernelDsl emulator's header defines the same names instead.");
        w.Line($"#ifndef {Guard}");
        bool first = true;
        foreach (var helper in Helpers)
        {
            if ((groups & helper.Group) == 0)
            {
                continue;
            }

            if (!first)
            {
                w.Line();
            }

            w.Lines(helper.Text);
            first = false;
        }

        if ((groups & PtxHelpers.Wgmma) != 0)
        {
            foreach (Element element in new[] { Element.F16, Element.BF16 })
            {
                if (Array.Exists(wgmmaShapes, s => s.Element == element))
                {
                    w.Line();
                    w.Lines(WgmmaDeclaration(element));
                }
            }

            foreach (var (element, n) in wgmmaShapes)
            {
                w.Line();
                w.Lines(Wgmma(element, n));
            }
        }

        w.Line($"#endif  // {Guard} (end of the PTX prelude)");
        foreach (var helper in PortableHelpers)
        {
            if ((groups & helper.Group) != 0)
            {
                w.Line();
                w.Lines(helper.Text);
            }
        }
    }

    /// <summary>The name of the wgmma helper for <paramref name="element"/> operands (a template on N).</summary>
    public static string WgmmaName(Element element) => element == Element.BF16 ? "wgmma_bf16" : "wgmma_f16";

    private static string WgmmaType(Element element) => element == Element.BF16 ? "bf16" : "f16";

    private static string WgmmaDeclaration(Element element) => $$"""
        // d (64 x N, fp32, CUTLASS's CLayout_64xN) = a (64 x 16) * b^T (b stored N x 16) + (scale_d ? d : 0), {{WgmmaType(element)}}
        // operands in shared memory, both K-major, through their descriptors; asynchronous until wgmma_wait.
        template <int n>
        __device__ void {{WgmmaName(element)}}(float (&d)[n / 2], unsigned long long a, unsigned long long b, int scale_d);
        """;

    private static string Wgmma(Element element, int n)
    {
        int registers = n / 2;
        var outputs = new System.Text.StringBuilder();
        var list = new System.Text.StringBuilder();
        for (int i = 0; i < registers; i++)
        {
            list.Append(i == 0 ? "" : ", ").Append('%').Append(Literals.Int(i));
            outputs.Append(i == 0 ? "" : ", ").Append($"\"+f\"(d[{Literals.Int(i)}])");
        }

        string type = WgmmaType(element);
        return $$"""
            template <>
            __device__ __forceinline__ void {{WgmmaName(element)}}<{{Literals.Int(n)}}>(float (&d)[{{Literals.Int(registers)}}], unsigned long long a, unsigned long long b, int scale_d)
            {
                asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %{{Literals.Int(registers + 2)}}, 0;\n"
                             "wgmma.mma_async.sync.aligned.m64n{{Literals.Int(n)}}k16.f32.{{type}}.{{type}} {{{list}}}, %{{Literals.Int(registers)}}, %{{Literals.Int(registers + 1)}}, p, 1, 1, 0, 0;\n}\n"
                             : {{outputs}}
                             : "l"(a), "l"(b), "r"(scale_d));
            }
            """;
    }

    private static string Ldmatrix(bool trans)
    {
        string suffix = trans ? "_trans" : "", qualifier = trans ? ".trans" : "";
        string comment = trans
            ? ""
            : "// ldmatrix: each lane gets its share of four 8x8 matrices of 16-bit elements; lane l supplies the address\n" +
              "// of row l % 8 of matrix l / 8 (.trans: each matrix transposed on the way).\n";
        return comment + $$"""
            __device__ __forceinline__ void ldmatrix_x4{{suffix}}(unsigned (&r)[4], const void* p)
            {
                asm volatile("ldmatrix.sync.aligned.m8n8.x4{{qualifier}}.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                             : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(p)));
            }
            """;
    }

    private static string Mma(string type) => $$"""
        // d (16x8, fp32) += a (16x16, row-major) * b (16x8, column-major), {{type}} operands.
        __device__ __forceinline__ void mma_16x8x16_{{type}}(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2])
        {
            asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.{{type}}.{{type}}.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                         : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                         : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
        }
        """;

    private static string Pack(string type) => $$"""
        // Two fp32 values as one register of two 16-bit elements, rounded to nearest even; `lo` in the low half.
        __device__ __forceinline__ unsigned pack_{{type}}(float lo, float hi)
        {
            unsigned r;
            asm("cvt.rn.{{type}}.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
            return r;
        }
        """;
}
