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

    /// <summary>Prints the helpers of <paramref name="groups"/>, in table order, as the one guarded prelude block.</summary>
    public static void Emit(CodeWriter w, PtxHelpers groups)
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

        w.Line($"#endif  // {Guard} (end of the PTX prelude)");
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
