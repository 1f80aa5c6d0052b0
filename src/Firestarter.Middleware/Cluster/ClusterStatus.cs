using System.Text.Json;

namespace Firestarter.Cluster;

/// <summary>
/// The <c>cluster</c> member of the status report: whether Redis is connected, every live instance with its parked
/// count, and the dispatches this instance handed on to and received from each.
/// </summary>
internal static class ClusterStatus
{
    public static void Write(Utf8JsonWriter json, ClusterFeature cluster)
    {
        json.WriteStartObject("cluster");
        if (cluster is not { Connection: { } connection, Publisher: { } publisher, Metrics: { } metrics, Traffic: { } traffic })
        {
            json.WriteBoolean("enabled", false);
            json.WriteEndObject();
            return;
        }

        json.WriteBoolean("enabled", true);
        json.WriteBoolean("connected", connection.IsConnected);
        json.WriteString("instanceId", connection.InstanceId);
        json.WriteString("instanceUrl", connection.InstanceUrl?.ToString());
        json.WriteNumber("directoryKeys", publisher.PublishedCount);
        json.WriteNumber("pendingKeys", publisher.PendingCount);
        json.WriteNumber("directoryWrites", metrics.DirectoryWrites);

        json.WriteStartObject("handOns");
        foreach (var outcome in Enum.GetValues<HandOnOutcome>())
        {
            json.WriteNumber(ClusterOutcomeNames.OfHandOn[(int)outcome], metrics.HandOnCount(outcome));
        }

        json.WriteEndObject();
        json.WriteStartObject("hopsReceived");
        foreach (var outcome in Enum.GetValues<HopOutcome>())
        {
            json.WriteNumber(ClusterOutcomeNames.OfHop[(int)outcome], metrics.HopCount(outcome));
        }

        json.WriteEndObject();

        // The live instances, then any instance that exchanged dispatches with this one and has since gone.
        var members = connection.Members;
        json.WriteStartArray("instances");
        foreach (var member in members)
        {
            WriteInstance(json, member.Id, member.Url.ToString(), member.Parked, alive: true, member.IsSelf, traffic);
        }

        foreach (var (id, _) in traffic.Peers)
        {
            if (!members.Any(member => member.Id == id))
            {
                WriteInstance(json, id, url: null, parked: null, alive: false, self: false, traffic);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The <c>cluster</c> member of the status's configuration summary: settings only, no password or secret.</summary>
    public static void WriteConfiguration(Utf8JsonWriter json, ClusterOptions options)
    {
        json.WriteStartObject("cluster");
        json.WriteBoolean("enabled", options.IsEnabled);
        if (options.IsEnabled)
        {
            json.WriteString("redis", StackExchange.Redis.ConfigurationOptions.Parse(options.Redis!).ToString(includePassword: false));
            json.WriteString("instanceUrl", options.InstanceUrl ?? "(the first listen address)");
            json.WriteString("keyPrefix", options.KeyPrefix);
            json.WriteBoolean("secretConfigured", options.Secret is not null);
            json.WriteString("heartbeatInterval", Invariant(options.HeartbeatInterval));
            json.WriteString("leaseDuration", Invariant(options.LeaseDuration));
            json.WriteString("publishInterval", Invariant(options.PublishInterval));
            json.WriteString("lookupTimeout", Invariant(options.LookupTimeout));
            json.WriteString("handOnTimeout", Invariant(options.HandOnTimeout));
            json.WriteNumber("maxHandOns", options.MaxHandOns);
        }

        json.WriteEndObject();
    }

    private static string Invariant(TimeSpan value) => value.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    private static void WriteInstance(Utf8JsonWriter json, string id, string? url, long? parked, bool alive, bool self, ClusterTraffic traffic)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("url", url);
        if (parked is { } count)
        {
            json.WriteNumber("parked", count);
        }
        else
        {
            json.WriteNull("parked");
        }

        json.WriteBoolean("alive", alive);
        json.WriteBoolean("self", self);
        if (!self)
        {
            var peer = traffic.For(id);
            json.WriteStartObject("handedOnTo");
            json.WriteNumber("warm", peer.HandedOnWarm);
            json.WriteNumber("miss", peer.HandedOnMiss);
            json.WriteNumber("unknown", peer.HandedOnUnknown);
            json.WriteEndObject();
            json.WriteStartObject("receivedFrom");
            json.WriteNumber("warm", peer.ReceivedWarm);
            json.WriteNumber("miss", peer.ReceivedMiss);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}
