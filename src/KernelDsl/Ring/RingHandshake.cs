using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace KernelDsl.Ring;

/// <summary>
/// The exchange that opens every <see cref="RingAttentionDriver.Forward"/> and <see cref="RingBackwardDriver.Backward"/>
/// on a ring of two or more ranks: each rank sends a fixed-size header describing its pass (forward or backward,
/// shape, mask, layout, scale, element type, its rank and the ring size, then a hash of all that) to rank + 1 and checks the header it receives from
/// rank − 1 against its own. Transport-neutral: it is one ordinary <see cref="IRingCommunicator.StartExchange"/>.
/// </summary>
/// <remarks>
/// Without it a rank given another head dimension or sequence length would post K/V transfers of another
/// size (the transport fails with a length error that names no cause) or, when the sizes happen to agree
/// (a different mask, layout, scale or element of the same width), compute a wrong answer silently.
/// The header has the same size on every rank whatever the options, so its own exchange cannot fail that
/// way. One exchange suffices: a ring in which some rank differs has some neighbour pair that differs,
/// and the rank that finds it fails the ring for all.
/// </remarks>
internal static class RingHandshake
{
    /// <summary>"KDRH", little-endian.</summary>
    private const uint Magic = 0x4852444B;
    private const ushort Version = 2;
    private const int FieldOffset = 8;
    private const int FieldCount = 11;
    private const int ElementNameOffset = FieldOffset + 4 * FieldCount;
    private const int ElementNameBytes = 48;
    private const int HashOffset = ElementNameOffset + ElementNameBytes;

    /// <summary>Bytes of a header: the fields, then a 64-bit FNV-1a hash of them.</summary>
    internal const int Bytes = HashOffset + sizeof(ulong);

    /// <summary>
    /// Exchanges headers with the neighbours; on a difference, fails the ring with a
    /// <see cref="RingConfigurationException"/> and throws it. Does nothing on a ring of one.
    /// </summary>
    /// <exception cref="RingConfigurationException">Rank − 1 describes another pass.</exception>
    /// <exception cref="RingCommunicationException">The exchange failed or timed out.</exception>
    public static void Verify<TElement>(IRingCommunicator communicator, RingAttentionOptions options, RingPass pass = RingPass.Forward)
        where TElement : unmanaged
    {
        if (communicator.Size == 1)
        {
            return;
        }
        byte[] mine = Describe<TElement>(communicator, options, pass);
        byte[] theirs = new byte[Bytes];
        communicator.StartExchange(mine, theirs).Wait();
        if (Compare(communicator, mine, theirs) is { } mismatch)
        {
            communicator.Fail(mismatch);
            throw mismatch;
        }
    }

    /// <summary>This rank's header.</summary>
    internal static byte[] Describe<TElement>(IRingCommunicator communicator, RingAttentionOptions options, RingPass pass = RingPass.Forward)
        where TElement : unmanaged
    {
        var header = new byte[Bytes];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Bytes);
        int[] fields =
        [
            communicator.Rank,
            communicator.Size,
            options.Heads,
            options.ResolvedKvHeads,
            options.HeadDim,
            options.SequenceLength,
            (int)options.Layout,
            options.Causal ? 1 : 0,
            BitConverter.SingleToInt32Bits(options.ResolvedScale),
            Unsafe.SizeOf<TElement>(),
            (int)pass,
        ];
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[(FieldOffset + 4 * i)..], fields[i]);
        }
        // Truncated to its field: enough to tell element types apart in a message; the size is compared too.
        byte[] name = Encoding.UTF8.GetBytes(typeof(TElement).FullName ?? typeof(TElement).Name);
        name.AsSpan(0, Math.Min(name.Length, ElementNameBytes)).CopyTo(span.Slice(ElementNameOffset, ElementNameBytes));
        BinaryPrimitives.WriteUInt64LittleEndian(span[HashOffset..], Hash(span[..HashOffset]));
        return header;
    }

    /// <summary>The difference between this rank's header and the one received from rank − 1, or null when there is none.</summary>
    internal static RingConfigurationException? Compare(IRingCommunicator communicator, ReadOnlySpan<byte> mine, ReadOnlySpan<byte> theirs)
    {
        int rank = communicator.Rank;
        int previous = (rank - 1 + communicator.Size) % communicator.Size;
        if (BinaryPrimitives.ReadUInt32LittleEndian(theirs) != Magic
            || BinaryPrimitives.ReadUInt16LittleEndian(theirs[6..]) != Bytes
            || BinaryPrimitives.ReadUInt64LittleEndian(theirs[HashOffset..]) != Hash(theirs[..HashOffset]))
        {
            return new RingConfigurationException(rank, previous, ["Header"],
                "what it sent is not a KernelDsl ring attention header: another program, or a corrupted link");
        }
        if (BinaryPrimitives.ReadUInt16LittleEndian(theirs[4..]) is var version && version != Version)
        {
            return new RingConfigurationException(rank, previous, ["Header"],
                $"handshake version {version} on rank {previous}, {Version} on rank {rank}: the ranks run different KernelDsl versions");
        }

        int[] ours = Fields(mine), other = Fields(theirs);
        var names = new List<string>();
        var differences = new List<string>();
        void Check(string name, int index, Func<int, string> format)
        {
            if (ours[index] != other[index])
            {
                names.Add(name);
                differences.Add($"{name} {format(other[index])} on rank {previous}, {format(ours[index])} on rank {rank}");
            }
        }
        static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

        if (other[0] != previous)
        {
            names.Add("Neighbour");
            differences.Add($"it says it is rank {Number(other[0])}, but rank {rank} receives from rank {previous}: the communicators disagree about the ring");
        }
        Check("Ranks", 1, Number);
        Check("Heads", 2, Number);
        Check("KvHeads", 3, Number);
        Check("HeadDim", 4, Number);
        Check("SequenceLength", 5, Number);
        Check("Layout", 6, value => ((RingLayout)value).ToString());
        Check("Causal", 7, value => value != 0 ? "true" : "false");
        Check("Scale", 8, value => BitConverter.Int32BitsToSingle(value).ToString("R", CultureInfo.InvariantCulture));
        Check("Pass", 10, value => ((RingPass)value).ToString());
        string ourElement = Element(mine), otherElement = Element(theirs);
        if (ourElement != otherElement || ours[9] != other[9])
        {
            names.Add("Element");
            differences.Add($"Element {otherElement} ({Number(other[9])} bytes) on rank {previous}, {ourElement} ({Number(ours[9])} bytes) on rank {rank}");
        }
        return names.Count == 0 ? null : new RingConfigurationException(rank, previous, names, string.Join("; ", differences));
    }

    /// <summary>The integer fields of a header, in the order <see cref="Describe"/> writes them.</summary>
    private static int[] Fields(ReadOnlySpan<byte> header)
    {
        var fields = new int[FieldCount];
        for (int i = 0; i < fields.Length; i++)
        {
            fields[i] = BinaryPrimitives.ReadInt32LittleEndian(header[(FieldOffset + 4 * i)..]);
        }
        return fields;
    }

    private static string Element(ReadOnlySpan<byte> header)
    {
        var name = header.Slice(ElementNameOffset, ElementNameBytes);
        int end = name.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
    }

    /// <summary>64-bit FNV-1a: catches a header that is not one (another program's bytes, a torn transfer), not an attack.</summary>
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037;
        foreach (byte value in bytes)
        {
            hash = (hash ^ value) * 1099511628211;
        }
        return hash;
    }
}
