using System.Text;

namespace Firestarter.Tests.TestSupport;

/// <summary>Dispatch bodies as the supervisor sends them: <c>{"dequeuedMessage":{…}}</c>.</summary>
internal static class DispatchBodies
{
    public const string Deployment = "deployment_abc";
    public const string Version = "20240101.1";
    public const double Cpu = 0.5;
    public const double Memory = 1;

    /// <summary>A realistic dequeued message: match fields among the other members the supervisor sends.</summary>
    public const string Message =
        """{"version":"1","snapshot":{"id":"snap_1","friendlyId":"snapshot_1"},"run":{"id":"run_internal_1","friendlyId":"run_1234","machine":{"name":"small-1x","cpu":0.5,"memory":1,"centsPerMs":0.0001},"isTest":false,"attemptNumber":1},"environment":{"id":"env_1","type":"PRODUCTION"},"deployment":{"id":"dep_internal","friendlyId":"deployment_abc","imagePlatform":"linux/amd64"},"backgroundWorker":{"id":"bw_1","friendlyId":"worker_1","version":"20240101.1"},"image":"registry.example/app:20240101.1","checkpoint":null,"placementTags":[]}""";

    public static string Wrap(string message) => $$"""{"dequeuedMessage":{{message}}}""";

    public static string Valid => Wrap(Message);

    /// <summary>A minimal message with the four match fields in the given (raw JSON) forms.</summary>
    public static string WithFields(
        string friendlyId = "\"deployment_abc\"",
        string version = "\"20240101.1\"",
        string cpu = "0.5",
        string memory = "1") =>
        Wrap(
            "{\"deployment\":{\"friendlyId\":" + friendlyId + "},\"backgroundWorker\":{\"version\":" + version
            + "},\"run\":{\"friendlyId\":\"run_1234\",\"machine\":{\"cpu\":" + cpu + ",\"memory\":" + memory + "}}}");

    public static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);
}
