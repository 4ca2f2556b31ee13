using Orleans.Serialization;
using Orleans.Storage;

namespace SupportGrid.Silo.Storage;

/// <summary>Grain state in the Orleans binary format for stores that take an <see cref="IGrainStorageSerializer"/> (Redis),
/// the same format <see cref="SqliteGrainStorage"/> writes: compact, and tolerant of added fields through the <c>[Id]</c>s.</summary>
public sealed class BinaryGrainStorageSerializer(Serializer serializer) : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) => new(serializer.SerializeToArray(input));

    public T? Deserialize<T>(BinaryData input) => serializer.Deserialize<T>(input.ToMemory());
}
