using System.Text.Json;
using Firestarter.Matching;

namespace Firestarter.Protocol;

/// <summary>
/// Reads a <c>POST /warm-start</c> body, <c>{"dequeuedMessage":{…}}</c>, in one forward pass with
/// <see cref="Utf8JsonReader"/>: it takes the four match fields and the byte range of the <c>dequeuedMessage</c>
/// value, and skips everything else without materialising it.
/// </summary>
/// <remarks>
/// Property order is arbitrary and unknown properties are allowed anywhere; the whole body must still be one valid
/// JSON value, so that the bytes handed to a controller are a well-formed message. A repeated match property is
/// refused: JSON parsers disagree on which copy wins, and the controller (JavaScript: the last) must see the key
/// the broker matched on.
/// </remarks>
internal static class DispatchMessageReader
{
    // Property names are compared as UTF-8 literals: the string overload of ValueTextEquals transcodes its argument
    // on every call.
    private static ReadOnlySpan<byte> Root => "dequeuedMessage"u8;

    /// <summary>Reads <paramref name="body"/>. On failure, <paramref name="problem"/> says what is wrong, for a 400.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, int maxDepth, out DispatchMessage message, out string? problem)
    {
        message = default;
        if (body.IsEmpty)
        {
            problem = "The body is empty; expected {\"dequeuedMessage\":{…}}.";
            return false;
        }

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            problem = ReadBody(ref reader, out message);
            if (problem is null && reader.Read())
            {
                // Utf8JsonReader throws on most trailing content; this covers the rest.
                problem = "The body must be a single JSON object.";
            }
        }
        catch (JsonException ex)
        {
            // The reader does not say why it stopped; telling "too deep" from "broken" needs a second look,
            // which only bad requests pay for.
            problem = NestingExceeds(body, maxDepth)
                ? $"The body is nested deeper than {maxDepth} levels."
                : $"The body is not valid JSON: {ex.Message}";
        }
        catch (InvalidOperationException)
        {
            // Comparing a property name that escapes a lone surrogate ("\ud800") throws rather than answering false.
            problem = "The body has a property name that is not valid UTF-16 text.";
        }

        return problem is null;
    }

    /// <summary>Whether <paramref name="json"/> opens more than <paramref name="maxDepth"/> nested objects or arrays.</summary>
    internal static bool NestingExceeds(ReadOnlySpan<byte> json, int maxDepth)
    {
        var depth = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                if (b == (byte)'\\')
                {
                    i++;
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b == (byte)'"')
            {
                inString = true;
            }
            else if (b is (byte)'{' or (byte)'[')
            {
                if (++depth > maxDepth)
                {
                    return true;
                }
            }
            else if (b is (byte)'}' or (byte)']')
            {
                depth--;
            }
        }

        return false;
    }

    private static string? ReadBody(ref Utf8JsonReader reader, out DispatchMessage message)
    {
        message = default;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return "The body must be a JSON object: {\"dequeuedMessage\":{…}}.";
        }

        MessageFields fields = default;
        var seen = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals(Root))
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            if (seen)
            {
                return "The body has more than one 'dequeuedMessage' property.";
            }

            seen = true;
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return "'dequeuedMessage' must be a JSON object.";
            }

            var start = (int)reader.TokenStartIndex;
            var problem = ReadMessage(ref reader, ref fields);
            if (problem is not null)
            {
                return problem;
            }

            fields.Message = new Range(start, (int)reader.BytesConsumed);
        }

        if (!seen)
        {
            return "The body has no 'dequeuedMessage' property.";
        }

        return fields.ToMessage(out message);
    }

    // Reader is on the StartObject of dequeuedMessage; leaves it on the matching EndObject.
    private static string? ReadMessage(ref Utf8JsonReader reader, ref MessageFields fields)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string? problem = null;
            if (reader.ValueTextEquals("deployment"u8))
            {
                problem = ReadObject(ref reader, ref fields, ref fields.SeenDeployment, "dequeuedMessage.deployment", ReadDeployment);
            }
            else if (reader.ValueTextEquals("backgroundWorker"u8))
            {
                problem = ReadObject(ref reader, ref fields, ref fields.SeenWorker, "dequeuedMessage.backgroundWorker", ReadWorker);
            }
            else if (reader.ValueTextEquals("run"u8))
            {
                problem = ReadObject(ref reader, ref fields, ref fields.SeenRun, "dequeuedMessage.run", ReadRun);
            }
            else if (reader.ValueTextEquals("snapshot"u8))
            {
                ReadSnapshot(ref reader, ref fields);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }

            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private delegate string? ObjectReader(ref Utf8JsonReader reader, ref MessageFields fields);

    // Reader is on a property name whose value must be an object; reads that object with readMembers.
    private static string? ReadObject(
        ref Utf8JsonReader reader, ref MessageFields fields, ref bool seen, string path, ObjectReader readMembers)
    {
        if (seen)
        {
            return $"The body has more than one '{path}' property.";
        }

        seen = true;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"'{path}' must be a JSON object.";
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var problem = readMembers(ref reader, ref fields);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? ReadDeployment(ref Utf8JsonReader reader, ref MessageFields fields) =>
        reader.ValueTextEquals("friendlyId"u8)
            ? ReadString(ref reader, ref fields.Deployment, "dequeuedMessage.deployment.friendlyId")
            : SkipValue(ref reader);

    private static string? ReadWorker(ref Utf8JsonReader reader, ref MessageFields fields) =>
        reader.ValueTextEquals("version"u8)
            ? ReadString(ref reader, ref fields.Version, "dequeuedMessage.backgroundWorker.version")
            : SkipValue(ref reader);

    private static string? ReadRun(ref Utf8JsonReader reader, ref MessageFields fields)
    {
        if (reader.ValueTextEquals("machine"u8))
        {
            return ReadObject(ref reader, ref fields, ref fields.SeenMachine, "dequeuedMessage.run.machine", ReadMachine);
        }

        if (reader.ValueTextEquals("friendlyId"u8))
        {
            return ReadRunId(ref reader, ref fields.RunFriendlyId);
        }

        if (reader.ValueTextEquals("id"u8))
        {
            return ReadRunId(ref reader, ref fields.RunInternalId);
        }

        return SkipValue(ref reader);
    }

    // Not a match field, so never a reason to refuse a dispatch: a snapshot that is not an object is skipped, and of
    // repeated ones the last counts, as for the controller (JavaScript) that will name it in attempts/start.
    private static void ReadSnapshot(ref Utf8JsonReader reader, ref MessageFields fields)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("friendlyId"u8))
            {
                ReadRunId(ref reader, ref fields.SnapshotFriendlyId);
            }
            else
            {
                SkipValue(ref reader);
            }
        }
    }

    private static string? ReadMachine(ref Utf8JsonReader reader, ref MessageFields fields)
    {
        if (reader.ValueTextEquals("cpu"u8))
        {
            return ReadSize(ref reader, ref fields.Cpu, "dequeuedMessage.run.machine.cpu");
        }

        if (reader.ValueTextEquals("memory"u8))
        {
            return ReadSize(ref reader, ref fields.Memory, "dequeuedMessage.run.machine.memory");
        }

        return SkipValue(ref reader);
    }

    private static string? SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
        return null;
    }

    private static string? ReadString(ref Utf8JsonReader reader, ref string? field, string path)
    {
        if (field is not null)
        {
            return $"The body has more than one '{path}' property.";
        }

        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return $"'{path}' must be a JSON string.";
        }

        if (!TryGetText(ref reader, out var text))
        {
            return $"'{path}' must be valid UTF-8 text (no lone surrogates).";
        }

        field = text;
        return field.Length == 0 ? $"'{path}' must not be empty." : null;
    }

    /// <summary>
    /// Decodes the current string token. <see cref="Utf8JsonReader.GetString"/> validates the text only when it
    /// decodes it, and then throws <see cref="InvalidOperationException"/>, not <see cref="JsonException"/>.
    /// </summary>
    private static bool TryGetText(ref Utf8JsonReader reader, out string text)
    {
        try
        {
            text = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            text = string.Empty;
            return false;
        }
    }

    private static string? ReadSize(ref Utf8JsonReader reader, ref double? field, string path)
    {
        if (field is not null)
        {
            return $"The body has more than one '{path}' property.";
        }

        reader.Read();
        if (reader.TokenType != JsonTokenType.Number)
        {
            reader.Skip();
            return $"'{path}' must be a JSON number.";
        }

        if (!reader.TryGetDouble(out var value) || !MatchKey.IsValidMachineSize(value))
        {
            return $"'{path}' must be a finite, non-negative number.";
        }

        field = value;
        return null;
    }

    // Ids are for logs and confirmation only: remember where the raw text is, decode nothing now.
    private static string? ReadRunId(ref Utf8JsonReader reader, ref Range field)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            // TokenStartIndex points at the opening quote; the raw value follows it.
            var start = (int)reader.TokenStartIndex + 1;
            field = new Range(start, start + reader.ValueSpan.Length);
        }
        else
        {
            reader.Skip();
        }

        return null;
    }

    private struct MessageFields
    {
        public string? Deployment;
        public string? Version;
        public double? Cpu;
        public double? Memory;
        public Range RunFriendlyId;
        public Range RunInternalId;
        public Range SnapshotFriendlyId;
        public Range Message;
        public bool SeenDeployment;
        public bool SeenWorker;
        public bool SeenRun;
        public bool SeenMachine;

        public readonly string? ToMessage(out DispatchMessage message)
        {
            message = default;
            var missing =
                Deployment is null ? "dequeuedMessage.deployment.friendlyId"
                : Version is null ? "dequeuedMessage.backgroundWorker.version"
                : Cpu is null ? "dequeuedMessage.run.machine.cpu"
                : Memory is null ? "dequeuedMessage.run.machine.memory"
                : null;
            if (missing is not null)
            {
                return $"The dispatch lacks '{missing}', one of the four fields a run is matched on.";
            }

            // An empty friendlyId says nothing; fall back to the internal id for the logs.
            var runId = DispatchMessage.IsEmpty(RunFriendlyId) ? RunInternalId : RunFriendlyId;
            message = new DispatchMessage(
                new MatchKey(Deployment!, Version!, Cpu!.Value, Memory!.Value), Message, runId, RunFriendlyId, SnapshotFriendlyId);
            return null;
        }
    }
}
