using System;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Ring;

/// <summary>The pinned views a generated CPU step reads and writes the caller's tensors through.</summary>
public sealed class PinnedAttentionTensorsTests
{
    [Fact]
    public void ViewsReadAndWriteTheCallersMemory()
    {
        float[] q = [1, 2, 3], k = [4, 5], v = [6], o = new float[4], lse = new float[2];
        PinnedAttentionTensors<float>.Pin(default, q, k, v, o, lse, (in AttentionStepArguments _, PinnedAttentionTensors<float> tensors) =>
        {
            Assert.Equal((3, 2, 1, 4, 2), (tensors.Q.Length, tensors.K.Length, tensors.V.Length, tensors.O.Length, tensors.Lse.Length));
            Assert.Equal(3f, tensors.Q[2]);
            Assert.Equal([4f, 5f], tensors.K.Slice(0, 2).ToArray());
            tensors.O[3] = tensors.V[0] + tensors.Q[0];
            tensors.Lse.Slice(1, 1)[0] = -1;
        });
        Assert.Equal([0f, 0f, 0f, 7f], o);
        Assert.Equal([0f, -1f], lse);
    }

    [Fact]
    public void IndexesOutsideAViewThrow()
    {
        float[] q = [1, 2, 3];
        PinnedAttentionTensors<float>.Pin(default, q, [], [], [], [], (in AttentionStepArguments _, PinnedAttentionTensors<float> tensors) =>
        {
            Assert.Throws<IndexOutOfRangeException>(() => tensors.Q[3]);
            Assert.Throws<IndexOutOfRangeException>(() => tensors.Q[-1]);
            Assert.Throws<IndexOutOfRangeException>(() => tensors.K[0]);
            Assert.Throws<ArgumentOutOfRangeException>(() => tensors.Q.Slice(2, 2));
            Assert.Throws<ArgumentOutOfRangeException>(() => tensors.Q.Slice(4, 0));
            Assert.Equal(0, tensors.Q.Slice(3, 0).Length);
        });
    }
}
