using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Emitting.Cuda;

/// <summary>The small device functions kernels are built from, as CUDA text. No includes: PTX does what headers would.</summary>
internal static class CudaDeviceFunctions
{
    public const string AsyncCopy = """
        // Asynchronous global -> shared copies (sm_80). src_bytes below the copy size zero-fills the rest,
        // which is how out-of-range elements become zeros without a branch around the copy.
        __device__ __forceinline__ unsigned shared_address(const void* p)
        {
            return static_cast<unsigned>(__cvta_generic_to_shared(p));
        }

        __device__ __forceinline__ void copy_async_4(void* dst, const void* src, int src_bytes)
        {
            asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes));
        }

        __device__ __forceinline__ void copy_async_16(void* dst, const void* src, int src_bytes)
        {
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(shared_address(dst)), "l"(src), "r"(src_bytes));
        }

        __device__ __forceinline__ void copy_async_commit()
        {
            asm volatile("cp.async.commit_group;\n" ::);
        }

        // Wait until at most `pending` committed groups are still in flight.
        template <int pending>
        __device__ __forceinline__ void copy_async_wait()
        {
            asm volatile("cp.async.wait_group %0;\n" :: "n"(pending));
        }
        """;

    /// <summary>ldmatrix: each lane gets its share of four 8×8 matrices of 16-bit elements; lane l supplies the address of row l % 8 of matrix l / 8.</summary>
    public const string Ldmatrix = """
        __device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* p)
        {
            asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                         : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(p)));
        }

        __device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const void* p)
        {
            asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                         : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(p)));
        }
        """;

    /// <summary>One m16n8k16 tensor-core MMA with fp32 accumulation: d += a·b.</summary>
    public static string Mma(Element element)
    {
        string type = element == Element.BF16 ? "bf16" : "f16";
        return $$"""
            // d (16x8, fp32) += a (16x16, row-major) * b (16x8, column-major), {{type}} operands.
            __device__ __forceinline__ void mma_16x8x16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2])
            {
                asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.{{type}}.{{type}}.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                             : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                             : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
            }
            """;
    }

    /// <summary>The C type that stores an element: 16-bit formats travel as their bit patterns.</summary>
    public static string StorageType(Element element) => element == Element.F32 ? "float" : "unsigned short";

    /// <summary>Conversions between fp32 and the output element (C and bias), rounding to nearest even.</summary>
    public static string OutputConversions(Element output) => output switch
    {
        Element.F16 => """
            typedef unsigned short out_t;  // fp16 bits
            __device__ __forceinline__ float to_float(out_t h) { float x; asm("cvt.f32.f16 %0, %1;" : "=f"(x) : "h"(h)); return x; }
            __device__ __forceinline__ out_t from_float(float x) { out_t h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }
            """,
        Element.BF16 => """
            typedef unsigned short out_t;  // bf16 bits: the high half of an fp32
            __device__ __forceinline__ float to_float(out_t h) { return __uint_as_float(static_cast<unsigned>(h) << 16); }
            __device__ __forceinline__ out_t from_float(float x) { out_t h; asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }
            """,
        _ => """
            typedef float out_t;
            __device__ __forceinline__ float to_float(out_t x) { return x; }
            __device__ __forceinline__ out_t from_float(float x) { return x; }
            """,
    };

    /// <summary>The activation as a device function (identity included, so the store reads the same for all).</summary>
    public static string Activation(Activation activation) => activation switch
    {
        Model.Activation.Relu => "__device__ __forceinline__ float activation(float x) { return x > 0.0f ? x : 0.0f; }",
        // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u) = x / (1 + e^(−2u)); e^(+large) = inf gives −0, not NaN.
        Model.Activation.Gelu => """
            // GELU, tanh form: 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), written as x / (1 + e^(-2u)).
            __device__ __forceinline__ float activation(float x)
            {
                const float u = 0.7978845608f * (x + 0.044715f * x * x * x);
                return x / (1.0f + expf(-2.0f * u));
            }
            """,
        Model.Activation.Silu => "__device__ __forceinline__ float activation(float x) { return x / (1.0f + expf(-x)); }",
        _ => "__device__ __forceinline__ float activation(float x) { return x; }",
    };
}
