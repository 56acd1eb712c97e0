Console.WriteLine("quickstart placeholder");
