using System.Text.Json;

namespace Firestarter.LoadTool;

/// <summary>What a controller needs from a delivered run: its id and its match key (to catch misrouting).</summary>
internal ref struct DeliveredRun
{
    public ReadOnlySpan<byte> RunId;
    public ReadOnlySpan<byte> Deployment;
    public ReadOnlySpan<byte> Version;
    public double Cpu;
    public double Memory;
}

/// <summary>Forward-only parsing of the two response bodies the load tool reads, with no allocation on the happy path.</summary>
internal static class WireParsing
{
    private enum Section
    {
        Other,
        Run,
        Machine,
        Deployment,
        BackgroundWorker,
    }

    /// <summary>
    /// Reads <c>run.friendlyId</c> (or <c>run.id</c>), <c>deployment.friendlyId</c>, <c>backgroundWorker.version</c> and
    /// <c>run.machine.cpu/memory</c> from the body of a <c>GET /warm-start</c> answer (the <c>dequeuedMessage</c>),
    /// stopping as soon as it has them all. False when the body is not JSON or has no run id.
    /// </summary>
    public static bool TryReadDelivery(ReadOnlySpan<byte> json, out DeliveredRun run)
    {
        run = default;
        run.Cpu = double.NaN;
        run.Memory = double.NaN;
        ReadOnlySpan<byte> runId = default;
        ReadOnlySpan<byte> friendlyId = default;
        var found = 0;
        try
        {
            var reader = new Utf8JsonReader(json);
            var section = Section.Other;
            while (found < 5 && reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                switch (reader.CurrentDepth)
                {
                    case 1:
                        section = reader.ValueTextEquals("run"u8) ? Section.Run
                            : reader.ValueTextEquals("deployment"u8) ? Section.Deployment
                            : reader.ValueTextEquals("backgroundWorker"u8) ? Section.BackgroundWorker
                            : Section.Other;
                        if (section == Section.Other)
                        {
                            reader.Read();
                            reader.Skip();
                        }

                        break;
                    case 2 when section is Section.Run or Section.Machine:
                        section = Section.Run;
                        if (reader.ValueTextEquals("friendlyId"u8))
                        {
                            friendlyId = StringValue(ref reader);
                            found++;
                        }
                        else if (reader.ValueTextEquals("id"u8))
                        {
                            runId = StringValue(ref reader);
                        }
                        else if (reader.ValueTextEquals("machine"u8))
                        {
                            section = Section.Machine;
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }

                        break;
                    case 2 when section == Section.Deployment && reader.ValueTextEquals("friendlyId"u8):
                        run.Deployment = StringValue(ref reader);
                        found++;
                        break;
                    case 2 when section == Section.BackgroundWorker && reader.ValueTextEquals("version"u8):
                        run.Version = StringValue(ref reader);
                        found++;
                        break;
                    case 3 when section == Section.Machine && reader.ValueTextEquals("cpu"u8):
                        run.Cpu = NumberValue(ref reader);
                        found++;
                        break;
                    case 3 when section == Section.Machine && reader.ValueTextEquals("memory"u8):
                        run.Memory = NumberValue(ref reader);
                        found++;
                        break;
                    default:
                        reader.Read();
                        reader.Skip();
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // A truncated or malformed body: whatever was read before the fault still counts.
        }
        catch (InvalidOperationException)
        {
            // A property of an unexpected type (e.g. "cpu": "1").
        }

        run.RunId = friendlyId.IsEmpty ? runId : friendlyId;
        return !run.RunId.IsEmpty;
    }

    /// <summary>Reads <c>didWarmStart</c> from the body of a <c>POST /warm-start</c> answer; null when absent or not a bool.</summary>
    public static bool? TryReadDidWarmStart(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    if (reader.ValueTextEquals("didWarmStart"u8))
                    {
                        reader.Read();
                        return reader.TokenType switch
                        {
                            JsonTokenType.True => true,
                            JsonTokenType.False => false,
                            _ => null,
                        };
                    }

                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: no answer.
        }

        return null;
    }

    // Run ids, deployment ids and versions never need escaping; an escaped value is returned raw and simply won't match.
    private static ReadOnlySpan<byte> StringValue(scoped ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String ? reader.ValueSpan : default;
    }

    private static double NumberValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var value) ? value : double.NaN;
    }
}
